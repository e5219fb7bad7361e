import { AbortedError, NetworkError } from "@cleancut/core";

export interface HttpRequest {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body?: Uint8Array;
  /** Aborting it must close the connection at once and reject with `AbortedError`. */
  signal: AbortSignal;
  /**
   * Called with the body bytes sent so far, by transports that can tell (XMLHttpRequest in a
   * browser); others simply never call it. Progress bars per segment use it.
   */
  onUploadProgress?: (sentBytes: number) => void;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /**
   * The body. Transports read it fully before `request()` resolves (cleancut answers are small
   * JSON), so a request is open exactly while its promise is pending: nothing to leak or forget.
   */
  text(): Promise<string>;
}

/**
 * The one seam to the network, like tus-js-client's HttpStack: swap it to use another HTTP
 * library, add tracing, or count what is open. Network failures reject with `NetworkError`.
 */
export interface HttpTransport {
  request(request: HttpRequest): Promise<HttpResponse>;
}

/** Turns whatever an HTTP library threw into the two client-side errors the SDK reasons about. */
export function transportError(error: unknown, request: HttpRequest): Error {
  if (request.signal.aborted) {
    return new AbortedError(`${request.method} ${request.url} was aborted`, { cause: request.signal.reason });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NetworkError(`${request.method} ${request.url} failed: ${message}`, { cause: error });
}

/** A buffered response: the body was read before the request promise resolved. */
export function bufferedResponse(
  status: number,
  headers: Record<string, string>,
  body: string,
): HttpResponse {
  return { status, headers, text: () => Promise.resolve(body) };
}
