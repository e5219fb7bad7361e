import { type CancelReport, pendingCancelReport } from "@cleancut/core";

/**
 * The server's report plus what the client knows on top: whether there was anything to cancel.
 * - `verified`: the server listed storage again and it was empty.
 * - `nothing_created`: cancelled before the upload existed on the server; no request was sent.
 * - `already_gone`: the server no longer knows the upload (404), so it holds none of its bytes.
 */
export interface ClientCancelReport extends CancelReport {
  outcome: "verified" | "nothing_created" | "already_gone" | "video_deleted";
  /** With `video_deleted`: the video a racing complete produced, deleted and checked gone. */
  deletedVideoId?: string;
}

export interface CancelProgress {
  id: string;
  deletedSegments: number;
  remainingSegments: number;
  state: CancelReport["state"];
  attempts: number;
}

export function progressOf(report: CancelReport): CancelProgress {
  return {
    id: report.id,
    deletedSegments: report.deletedSegments,
    remainingSegments: report.remainingSegments,
    state: report.state,
    attempts: report.attempts,
  };
}

/** A report for an upload with nothing left to delete, made by the client. */
export function emptyReport(
  id: string,
  requestedAt: string,
  outcome: "nothing_created" | "already_gone" | "video_deleted",
): ClientCancelReport {
  const finishedAt = new Date().toISOString();
  return {
    ...pendingCancelReport(id, "client", requestedAt),
    state: "cancelled",
    verified: true,
    finishedAt,
    durationMs: Date.parse(finishedAt) - Date.parse(requestedAt),
    outcome,
  };
}
