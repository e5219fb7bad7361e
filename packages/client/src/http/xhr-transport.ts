import {
  bufferedResponse,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  transportError,
} from "./transport.js";

/**
 * XMLHttpRequest, for browsers: unlike `fetch` it reports how much of a request body has been
 * sent, which the page's per-segment progress needs. `abort()` closes the connection at once.
 */
export class XhrTransport implements HttpTransport {
  request(request: HttpRequest): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      if (request.signal.aborted) {
        reject(transportError(request.signal.reason, request));
        return;
      }
      const xhr = new XMLHttpRequest();
      const onAbort = () => xhr.abort();
      const settle = () => request.signal.removeEventListener("abort", onAbort);
      xhr.open(request.method, request.url);
      for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
      const onUploadProgress = request.onUploadProgress;
      if (onUploadProgress !== undefined) {
        xhr.upload.addEventListener("progress", (event) => onUploadProgress(event.loaded));
      }
      xhr.addEventListener("load", () => {
        settle();
        resolve(bufferedResponse(xhr.status, parseHeaders(xhr.getAllResponseHeaders()), xhr.responseText));
      });
      const fail = (what: string) => () => {
        settle();
        reject(transportError(new Error(what), request));
      };
      xhr.addEventListener("error", fail("network error"));
      xhr.addEventListener("abort", fail("aborted"));
      xhr.addEventListener("timeout", fail("timed out"));
      request.signal.addEventListener("abort", onAbort, { once: true });
      xhr.send((request.body as Uint8Array<ArrayBuffer> | undefined) ?? null);
    });
  }
}

function parseHeaders(raw: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of raw.trim().split(/[\r\n]+/)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
