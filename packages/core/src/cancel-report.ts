/**
 * Why an upload is being cancelled. `concatenated`: a tus partial upload whose bytes are now in
 * its final upload; its own storage is removed like any cancel's, verified.
 */
export type CancelReason = "client" | "expired" | "not_a_video" | "concatenated";

/** A piece of the upload that storage still held after a cleanup attempt. */
export interface Remnant {
  /** Segment index, when the remnant is a segment. */
  index?: number;
  /** Storage-relative name, e.g. `segments/000003.<sha>.seg` or a temp file. */
  name: string;
  size: number;
}

export interface CleanupFailure {
  index?: number;
  name: string;
  code: string;
  message: string;
}

/**
 * Cancellation is a value. The server keeps the latest one per upload; the client returns it
 * from `cancel()`. `verified` is true only once storage was listed again and held nothing.
 */
export interface CancelReport {
  id: string;
  state: "cancelling" | "cancelled";
  reason: CancelReason;
  /** Segment writes that were still streaming and were cut off. */
  abortedTransfers: number;
  deletedSegments: number;
  deletedBytes: number;
  remainingSegments: number;
  remaining: Remnant[];
  failures: CleanupFailure[];
  verified: boolean;
  attempts: number;
  requestedAt: string;
  finishedAt?: string;
  /** From the cancel request to the verified-empty listing (or to this report, if not verified yet). */
  durationMs: number;
  nextAttemptAt?: string;
}

/** A report before any cleanup attempt: nothing deleted, nothing verified yet. */
export function pendingCancelReport(id: string, reason: CancelReason, requestedAt: string): CancelReport {
  return {
    id,
    state: "cancelling",
    reason,
    abortedTransfers: 0,
    deletedSegments: 0,
    deletedBytes: 0,
    remainingSegments: 0,
    remaining: [],
    failures: [],
    verified: false,
    attempts: 0,
    requestedAt,
    durationMs: 0,
  };
}

/**
 * The report an attempt builds on when another attempt may have run meanwhile (with several
 * instances, any instance's reaper can pick up a cleanup that is due while this one runs):
 * counts only grow, so the larger of each is the truth so far.
 */
export function includeConcurrentAttempt(mine: CancelReport, stored: CancelReport | undefined): CancelReport {
  if (stored === undefined || stored.requestedAt !== mine.requestedAt) return mine;
  return {
    ...mine,
    attempts: Math.max(mine.attempts, stored.attempts),
    abortedTransfers: Math.max(mine.abortedTransfers, stored.abortedTransfers),
    deletedSegments: Math.max(mine.deletedSegments, stored.deletedSegments),
    deletedBytes: Math.max(mine.deletedBytes, stored.deletedBytes),
  };
}
