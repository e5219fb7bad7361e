import {
  type CancelReport,
  CleanupUnverifiedError,
  isCleancutError,
  type UploadStatus,
} from "@cleancut/core";
import type { ApiClient } from "../http/api-client.js";
import type { JournalEntry } from "../journal/cancel-journal.js";
import {
  backoffDelay,
  defaultRetryPolicy,
  isRetryable,
  type RetryPolicy,
  sleep,
  withRetry,
} from "../retry.js";
import {
  type CancelProgress,
  type ClientCancelReport,
  emptyReport,
  progressOf,
} from "./client-cancel-report.js";

export interface ConfirmCancelOptions {
  /** Default: `defaultRetryPolicy` (5 retries, 250 ms doubling up to 8 s). */
  retry?: RetryPolicy;
  /** How long to keep polling a 202 before giving up with `CleanupUnverifiedError`. */
  pollTimeoutMs?: number;
  onProgress?: (progress: CancelProgress) => void;
  signal: AbortSignal;
}

const isNotFound = (error: unknown) => isCleancutError(error) && error.code === "upload_not_found";

/**
 * Sends the cancel and follows it until the server says storage is verified empty: DELETE, and
 * on 202 poll the status with backoff. A 404 means the upload is gone, so nothing of it is left.
 * If the server stays unreachable or never verifies, rejects with `CleanupUnverifiedError`
 * (the caller keeps the journal entry so the cancel can be finished later).
 */
export async function confirmCancel(
  api: ApiClient,
  entry: JournalEntry,
  options: ConfirmCancelOptions,
): Promise<ClientCancelReport> {
  const { retry = defaultRetryPolicy, signal } = options;
  const ref = { id: entry.id, token: entry.token };
  let report: CancelReport;
  try {
    ({ report } = await withRetry(retry, signal, () => api.cancel(ref, signal)));
  } catch (error) {
    if (isNotFound(error)) return emptyReport(entry.id, entry.requestedAt, "already_gone");
    throw unverified(entry, error, undefined);
  }
  options.onProgress?.(progressOf(report));
  const deadline = Date.now() + (options.pollTimeoutMs ?? 60_000);
  for (let attempt = 0; !report.verified; attempt++) {
    if (Date.now() > deadline) throw unverified(entry, undefined, report);
    await sleep(backoffDelay({ ...retry, maxMs: Math.min(retry.maxMs, 2000) }, attempt), signal);
    let status: UploadStatus;
    try {
      status = await withRetry(retry, signal, () => api.status(ref, signal));
    } catch (error) {
      if (isNotFound(error)) return emptyReport(entry.id, entry.requestedAt, "already_gone");
      if (isRetryable(error)) throw unverified(entry, error, report);
      throw error;
    }
    if (status.cancel !== undefined) {
      report = status.cancel;
      options.onProgress?.(progressOf(report));
    }
  }
  return { ...report, outcome: "verified" };
}

function unverified(entry: JournalEntry, cause: unknown, report: CancelReport | undefined): Error {
  if (isCleancutError(cause) && !isRetryable(cause)) return cause;
  return new CleanupUnverifiedError(
    `could not confirm that upload ${entry.id} was deleted; the cancel stays in the journal`,
    { cause, details: { id: entry.id, endpoint: entry.endpoint, ...(report ? { report } : {}) } },
  );
}
