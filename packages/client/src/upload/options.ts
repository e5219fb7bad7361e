import type { UploadMode } from "@cleancut/core";
import { type Sha256Function, sha256 } from "../digest.js";
import type { UploadRef } from "../http/api-client.js";
import type { HttpTransport } from "../http/transport.js";
import { type CancelJournal, MemoryJournal } from "../journal/cancel-journal.js";
import { defaultRetryPolicy, type RetryPolicy } from "../retry.js";

export interface UploadOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8787`. */
  endpoint: string;
  /** Asked of the server at create; it picks its default (8 MiB) when omitted. */
  segmentSize?: number;
  /** Segments in flight at once (default 4). Memory is bounded by concurrency × segmentSize. */
  concurrency?: number;
  /** Retries per request on network errors, 5xx, 408 and 429 (default 5). Other 4xx are final. */
  retries?: number;
  /** Backoff between retries (default 250 ms doubling up to 8 s, with jitter). */
  retryDelay?: { baseMs?: number; maxMs?: number };
  /** Server API key, sent only on create (`Authorization: Bearer <apiKey>`). */
  apiKey?: string;
  transport?: HttpTransport;
  /** Where unconfirmed cancels are recorded (default: in memory). */
  journal?: CancelJournal;
  progressIntervalMs?: number;
  /** SHA-256 for the per-segment Content-Digest (default WebCrypto; the Node entry uses node:crypto). */
  sha256?: Sha256Function;
  /**
   * `proxy` (default): segments are PUT to the cleancut server. `direct`: each segment is PUT
   * straight to storage (S3) with a URL the server presigns for it, then confirmed; the server
   * never sees the bytes. The Upload API and `cancel()` are the same (cancel aborts the PUTs to
   * storage first, then asks the server, which removes and verifies). Needs an S3-backed server
   * (else create fails with `direct_mode_unavailable`).
   */
  mode?: UploadMode;
  /**
   * Attach to an upload that already exists instead of creating one, and send its bytes: an
   * upload your backend created server-to-server with the API key (`POST /v1/uploads` answers
   * `{id, token}`; hand those to the browser), or one another process started and did not finish.
   * The source must be the file it was declared for: a different size fails with
   * `FileMismatchError` (`file_mismatch`) before any byte is sent. Segments the server already
   * holds are not sent again. `cancel()` deletes and verifies as for any upload.
   */
  upload?: UploadRef;
  /** The same as `upload` (its earlier name, kept so existing callers work). Give one of the two. */
  resumeFrom?: UploadRef;
  /** How long cancel() follows a 202 before giving up with `CleanupUnverifiedError` (default 60 s). */
  cancelPollTimeoutMs?: number;
}

export interface ResolvedOptions {
  endpoint: string;
  segmentSize: number | undefined;
  concurrency: number;
  retry: RetryPolicy;
  apiKey: string | undefined;
  transport: HttpTransport;
  journal: CancelJournal;
  progressIntervalMs: number;
  sha256: Sha256Function;
  mode: UploadMode;
  /** The existing upload to attach to (`upload`, or its alias `resumeFrom`). */
  attachTo: UploadRef | undefined;
  cancelPollTimeoutMs: number;
}

export function resolveOptions(
  options: UploadOptions,
  defaultTransport: () => HttpTransport,
): ResolvedOptions {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const { upload, resumeFrom } = options;
  if (upload !== undefined && resumeFrom !== undefined && upload.id !== resumeFrom.id) {
    throw new TypeError(
      `upload (${upload.id}) and resumeFrom (${resumeFrom.id}) name different uploads: give one`,
    );
  }
  return {
    endpoint: options.endpoint,
    segmentSize: options.segmentSize,
    concurrency,
    retry: {
      retries: options.retries ?? defaultRetryPolicy.retries,
      baseMs: options.retryDelay?.baseMs ?? defaultRetryPolicy.baseMs,
      maxMs: options.retryDelay?.maxMs ?? defaultRetryPolicy.maxMs,
    },
    apiKey: options.apiKey,
    transport: options.transport ?? defaultTransport(),
    journal: options.journal ?? new MemoryJournal(),
    progressIntervalMs: options.progressIntervalMs ?? 100,
    sha256: options.sha256 ?? sha256,
    mode: options.mode ?? "proxy",
    attachTo: upload ?? resumeFrom,
    cancelPollTimeoutMs: options.cancelPollTimeoutMs ?? 60_000,
  };
}
