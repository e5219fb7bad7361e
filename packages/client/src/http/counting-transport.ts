import type { HttpRequest, HttpResponse, HttpTransport } from "./transport.js";

/**
 * Wraps a transport and counts the requests still open. Each Upload has its own, so "after
 * cancel nothing is left open" is a number a caller (or a test) can check.
 */
export class CountingTransport implements HttpTransport {
  #active = 0;

  constructor(readonly inner: HttpTransport) {}

  get active(): number {
    return this.#active;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    this.#active += 1;
    try {
      return await this.inner.request(request);
    } finally {
      this.#active -= 1;
    }
  }
}
