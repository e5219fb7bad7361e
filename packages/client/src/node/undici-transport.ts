import { type Dispatcher, getGlobalDispatcher, request as undiciRequest } from "undici";
import {
  bufferedResponse,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  transportError,
} from "../http/transport.js";

/**
 * `undici.request`: Node 20's built-in fetch is slow with large request bodies. Aborting the
 * signal destroys the socket at once, so the server sees the segment cut off immediately.
 */
export class UndiciTransport implements HttpTransport {
  constructor(private readonly dispatcher: Dispatcher = getGlobalDispatcher()) {}

  async request(request: HttpRequest): Promise<HttpResponse> {
    try {
      const response = await undiciRequest(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: request.signal,
        dispatcher: this.dispatcher,
      });
      const body = await response.body.text();
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined)
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
      return bufferedResponse(response.statusCode, headers, body);
    } catch (error) {
      throw transportError(error, request);
    }
  }
}
