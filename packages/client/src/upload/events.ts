import type { CleancutError, StoredSegment } from "@cleancut/core";
import type { CancelProgress } from "../cancel/client-cancel-report.js";

export type UploadPhase =
  | "idle"
  | "creating"
  | "uploading"
  | "paused"
  | "completing"
  | "completed"
  | "cancelling"
  | "cancelled"
  | "failed";

export interface UploadProgress {
  bytesSent: number;
  totalBytes: number;
  /** Bytes per second over this run (segments already on the server at resume do not count). */
  rate: number;
  /** Undefined until a rate is known. */
  etaSeconds: number | undefined;
}

/** Where one segment stands, for a segment map: held by the server, on its way, or still to send. */
export interface SegmentProgress {
  index: number;
  size: number;
  /** Body bytes sent in the current try (only transports that report it move it before the end). */
  sent: number;
  state: "waiting" | "sending" | "stored";
}

export interface UploadEvents {
  progress: UploadProgress;
  /** A segment the server stored (as it answered the PUT). */
  segment: StoredSegment;
  /** Per segment: `stored` for those the server already held when a run starts, then `sending` → `stored` (or back to `waiting` when a try fails or is stopped). */
  "segment-progress": SegmentProgress;
  state: UploadPhase;
  "cancel-progress": CancelProgress;
  error: CleancutError | Error;
}
