import {
  type CancelReport,
  type CleancutError,
  type ConfirmSegmentRequest,
  type CreateUploadRequest,
  type CreateUploadResponse,
  errorFromCode,
  InternalError,
  InvalidRequestError,
  NetworkError,
  type PresignSegmentResponse,
  RateLimitedError,
  RequestTimeoutError,
  type StoredSegment,
  type UploadStatus,
  type VideoInfo,
} from "@cleancut/core";
import type { HttpRequest, HttpTransport } from "./transport.js";

/** What every call on an existing upload needs: its id and the bearer token issued at create. */
export interface UploadRef {
  id: string;
  token: string;
}

interface CallOptions {
  bearer?: string | undefined;
  json?: unknown;
  body?: Uint8Array;
  headers?: Record<string, string>;
  onUploadProgress?: ((sentBytes: number) => void) | undefined;
}

/** REST API v1, typed. Non-2xx answers become core's error classes, rebuilt from their code. */
export class ApiClient {
  readonly endpoint: string;

  constructor(
    readonly transport: HttpTransport,
    endpoint: string,
  ) {
    // Kept as a prefix (not resolved with `new URL`) so an endpoint like https://host/api keeps its path.
    this.endpoint = endpoint.replace(/\/+$/, "");
  }

  createUpload(body: CreateUploadRequest, apiKey: string | undefined, signal: AbortSignal) {
    return this.#json<CreateUploadResponse>("POST", "/v1/uploads", { bearer: apiKey, json: body }, signal);
  }

  /** Newest first; needs the server's API key when it has one. */
  listUploads(query: { limit?: number; state?: string }, apiKey: string | undefined, signal: AbortSignal) {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.state !== undefined) params.set("state", query.state);
    const search = params.size === 0 ? "" : `?${params.toString()}`;
    return this.#json<UploadStatus[]>("GET", `/v1/uploads${search}`, { bearer: apiKey }, signal);
  }

  status(ref: UploadRef, signal: AbortSignal) {
    return this.#json<UploadStatus>("GET", this.#path(ref), { bearer: ref.token }, signal);
  }

  listSegments(ref: UploadRef, signal: AbortSignal) {
    return this.#json<StoredSegment[]>("GET", `${this.#path(ref)}/segments`, { bearer: ref.token }, signal);
  }

  putSegment(
    ref: UploadRef,
    index: number,
    bytes: Uint8Array,
    digest: string,
    signal: AbortSignal,
    onUploadProgress?: (sentBytes: number) => void,
  ) {
    const headers = { "content-type": "application/octet-stream", "content-digest": digest };
    const options = { bearer: ref.token, body: bytes, headers, onUploadProgress };
    return this.#json<StoredSegment>("PUT", `${this.#path(ref)}/segments/${index}`, options, signal);
  }

  /** Direct mode: a URL to PUT segment `index` straight to storage (410 once the upload is cancelled). */
  presignSegment(ref: UploadRef, index: number, signal: AbortSignal) {
    const path = `${this.#path(ref)}/segments/${index}/presign`;
    return this.#json<PresignSegmentResponse>("POST", path, { bearer: ref.token }, signal);
  }

  /**
   * Direct mode: PUTs the bytes to a presigned storage URL through the same transport as every
   * other call (so aborting `signal` cuts it, and `activeRequests` counts it). No bearer token:
   * the URL is the only credential. Storage's own failures (XML, not cleancut's JSON) become
   * errors by status: 5xx, 408 and 429 are retryable, other statuses final.
   */
  async putPresigned(
    signed: PresignSegmentResponse,
    bytes: Uint8Array,
    signal: AbortSignal,
    onUploadProgress?: (sentBytes: number) => void,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(signed.headers)) {
      const lower = name.toLowerCase();
      // Set by the HTTP stack from the body (and forbidden to set in browsers' fetch).
      if (lower !== "content-length" && lower !== "host") headers[lower] = value;
    }
    const request: HttpRequest = { method: signed.method, url: signed.url, headers, body: bytes, signal };
    if (onUploadProgress !== undefined) request.onUploadProgress = onUploadProgress;
    const response = await this.transport.request(request);
    const text = await response.text();
    if (response.status >= 200 && response.status < 300) return;
    throw errorFromResponse(response.status, text, `PUT to storage (${new URL(signed.url).host})`);
  }

  /** Direct mode: tells the server the segment is in storage; it checks the size there and records the SHA-256. */
  confirmSegment(ref: UploadRef, index: number, body: ConfirmSegmentRequest, signal: AbortSignal) {
    const path = `${this.#path(ref)}/segments/${index}/confirm`;
    return this.#json<StoredSegment>("POST", path, { bearer: ref.token, json: body }, signal);
  }

  async deleteSegment(ref: UploadRef, index: number, signal: AbortSignal): Promise<void> {
    await this.#call("DELETE", `${this.#path(ref)}/segments/${index}`, { bearer: ref.token }, signal);
  }

  complete(ref: UploadRef, signal: AbortSignal) {
    return this.#json<VideoInfo>("POST", `${this.#path(ref)}/complete`, { bearer: ref.token }, signal);
  }

  /** Deletes a completed video; the upload's token authorises it. Idempotent once authorised. */
  async deleteVideo(ref: UploadRef, videoId: string, signal: AbortSignal): Promise<void> {
    await this.#call("DELETE", `/v1/videos/${encodeURIComponent(videoId)}`, { bearer: ref.token }, signal);
  }

  video(videoId: string, signal: AbortSignal) {
    return this.#json<VideoInfo>("GET", `/v1/videos/${encodeURIComponent(videoId)}`, {}, signal);
  }

  /** 200 = verified empty; 202 = the server is still cleaning up and retrying. */
  async cancel(ref: UploadRef, signal: AbortSignal): Promise<{ status: number; report: CancelReport }> {
    const { status, text } = await this.#call("DELETE", this.#path(ref), { bearer: ref.token }, signal);
    return { status, report: parseJson<CancelReport>(text, status) };
  }

  #path(ref: UploadRef): string {
    return `/v1/uploads/${encodeURIComponent(ref.id)}`;
  }

  async #json<T>(method: HttpRequest["method"], path: string, options: CallOptions, signal: AbortSignal) {
    const { status, text } = await this.#call(method, path, options, signal);
    return parseJson<T>(text, status);
  }

  async #call(
    method: HttpRequest["method"],
    path: string,
    options: CallOptions,
    signal: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
    let body = options.body;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = new TextEncoder().encode(JSON.stringify(options.json));
    }
    const request: HttpRequest = { method, url: `${this.endpoint}${path}`, headers, signal };
    if (body !== undefined) request.body = body;
    if (options.onUploadProgress !== undefined) request.onUploadProgress = options.onUploadProgress;
    const response = await this.transport.request(request);
    const text = await response.text();
    if (response.status >= 200 && response.status < 300) return { status: response.status, text };
    throw errorFromResponse(response.status, text, `${method} ${path}`);
  }
}

function parseJson<T>(text: string, status: number): T {
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new InternalError(`the server answered ${status} with a body that is not JSON`, {
      cause: error,
      details: { status },
    });
  }
}

/** `{error:{code,message,details}}` back into its class; a non-JSON answer (a proxy's 502) by status. */
export function errorFromResponse(status: number, text: string, what: string): CleancutError {
  const wire = tryParseError(text);
  if (wire !== undefined) {
    return errorFromCode(
      wire.code,
      wire.message,
      wire.details === undefined ? {} : { details: wire.details },
    );
  }
  const message = `${what} answered ${status} without an error body`;
  const options = { details: { status } };
  if (status === 408) return new RequestTimeoutError(message, options);
  if (status === 429) return new RateLimitedError(message, options);
  if (status >= 500) return new InternalError(message, options);
  if (status === 0) return new NetworkError(message, options);
  return new InvalidRequestError(message, options);
}

function tryParseError(
  text: string,
): { code: string; message: string; details?: Record<string, unknown> } | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || !("error" in parsed)) return undefined;
    const error: unknown = parsed.error;
    if (typeof error !== "object" || error === null) return undefined;
    const { code, message, details } = error as Record<string, unknown>;
    if (typeof code !== "string") return undefined;
    return {
      code,
      message: typeof message === "string" ? message : code,
      ...(typeof details === "object" && details !== null
        ? { details: details as Record<string, unknown> }
        : {}),
    };
  } catch {
    return undefined;
  }
}
