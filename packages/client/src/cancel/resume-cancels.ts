import type { CleancutError } from "@cleancut/core";
import { ApiClient } from "../http/api-client.js";
import { FetchTransport } from "../http/fetch-transport.js";
import type { HttpTransport } from "../http/transport.js";
import type { CancelJournal } from "../journal/cancel-journal.js";
import { defaultRetryPolicy, type RetryPolicy } from "../retry.js";
import type { CancelProgress, ClientCancelReport } from "./client-cancel-report.js";
import { confirmCancel } from "./confirm-cancel.js";

export interface ResumeCancelsOptions {
  transport?: HttpTransport;
  retry?: Partial<RetryPolicy>;
  pollTimeoutMs?: number;
  onProgress?: (progress: CancelProgress) => void;
  signal?: AbortSignal;
}

export type ResumedCancel =
  | { id: string; endpoint: string; ok: true; report: ClientCancelReport }
  | { id: string; endpoint: string; ok: false; error: CleancutError | Error };

/**
 * Finishes every cancel the journal still holds (after an outage, a crash, at start-up). Each
 * entry is removed once verified and kept otherwise; one failure does not stop the others.
 */
export async function resumeCancels(
  journal: CancelJournal,
  options: ResumeCancelsOptions = {},
): Promise<ResumedCancel[]> {
  const transport = options.transport ?? new FetchTransport();
  const signal = options.signal ?? new AbortController().signal;
  const retry = { ...defaultRetryPolicy, ...options.retry };
  const results: ResumedCancel[] = [];
  for (const entry of await journal.list(signal)) {
    const api = new ApiClient(transport, entry.endpoint);
    try {
      const report = await confirmCancel(api, entry, {
        retry,
        signal,
        ...(options.pollTimeoutMs === undefined ? {} : { pollTimeoutMs: options.pollTimeoutMs }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      await journal.remove(entry.id, signal);
      results.push({ id: entry.id, endpoint: entry.endpoint, ok: true, report });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      results.push({ id: entry.id, endpoint: entry.endpoint, ok: false, error: failure });
    }
  }
  return results;
}
