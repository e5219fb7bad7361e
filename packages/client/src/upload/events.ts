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

export interface UploadEvents {
  progress: UploadProgress;
  /** A segment the server stored (as it answered the PUT). */
  segment: StoredSegment;
  state: UploadPhase;
  "cancel-progress": CancelProgress;
  error: CleancutError | Error;
}
