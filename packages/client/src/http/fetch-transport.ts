import {
  bufferedResponse,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  transportError,
} from "./transport.js";

/** `fetch`-based transport: works in browsers and Node; the default outside the Node entry. */
export class FetchTransport implements HttpTransport {
  readonly #fetch: typeof fetch;

  constructor(fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis)) {
    this.#fetch = fetchImpl;
  }

  async request(request: HttpRequest): Promise<HttpResponse> {
    try {
      const init: RequestInit = { method: request.method, headers: request.headers, signal: request.signal };
      if (request.body !== undefined) init.body = request.body as Uint8Array<ArrayBuffer>;
      const response = await this.#fetch(request.url, init);
      // Same signal: an abort while the body streams in also cuts the connection.
      const body = await response.text();
      const headers: Record<string, string> = {};
      response.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      return bufferedResponse(response.status, headers, body);
    } catch (error) {
      throw transportError(error, request);
    }
  }
}
