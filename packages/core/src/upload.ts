/** The life of an upload. `cancelling` is the durable tombstone: from then on no segment is accepted. */
export const uploadStates = [
  "uploading",
  "completing",
  "completed",
  "cancelling",
  "cancelled",
  "failed",
] as const;
export type UploadState = (typeof uploadStates)[number];

/** States in which a cancel has nothing left to do but report. */
export const finalStates: readonly UploadState[] = ["completed", "cancelled"];

export interface CreateUploadRequest {
  filename: string;
  size: number;
  contentType: string;
  segmentSize?: number;
}

export interface CreateUploadResponse {
  id: string;
  /** Bearer token for every later call on this upload. Shown once; the server keeps only its hash. */
  token: string;
  segmentSize: number;
  segmentCount: number;
  expiresAt: string;
}

export interface UploadStatus {
  id: string;
  state: UploadState;
  filename: string;
  contentType: string;
  size: number;
  segmentSize: number;
  segmentCount: number;
  receivedSegments: number;
  receivedBytes: number;
  createdAt: string;
  expiresAt: string;
  videoId?: string;
  cancel?: import("./cancel-report.js").CancelReport;
  error?: { code: string; message: string };
}

/** One segment as the storage itself holds it. */
export interface StoredSegment {
  index: number;
  size: number;
  /** Lower-case hex SHA-256 of the segment's bytes. */
  sha256: string;
}

export interface VideoProbe {
  container: string;
  durationSeconds?: number;
  width?: number;
  height?: number;
  videoCodec?: string;
  audioCodec?: string;
}

export interface VideoInfo {
  videoId: string;
  uploadId: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: string;
  probe: VideoProbe;
}

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
