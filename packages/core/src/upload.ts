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

/**
 * How segment bytes travel. `proxy` (default): PUT to the server, which streams them to
 * storage. `direct`: PUT straight to storage with a URL the server presigned for that one
 * segment; the server never sees the bytes, and cancel still goes through the server.
 */
export type UploadMode = "proxy" | "direct";

export interface CreateUploadRequest {
  filename: string;
  size: number;
  contentType: string;
  segmentSize?: number;
  /** Default `proxy`; `direct` needs a store that can presign (S3), else 400 `direct_mode_unavailable`. */
  mode?: UploadMode;
  /** Free-form strings (keys 1–64 characters, at most 4 KiB as JSON), sent with the upload's events. */
  metadata?: Record<string, string>;
  /** The application's user; only with the server's API key. */
  owner?: string;
}

export interface CreateUploadResponse {
  id: string;
  /** Bearer token for every later call on this upload. Shown once; the server keeps only its hash. */
  token: string;
  segmentSize: number;
  segmentCount: number;
  expiresAt: string;
  mode: UploadMode;
}

/** `POST /v1/uploads/{id}/segments/{index}/presign`: where and how to PUT one segment's bytes. */
export interface PresignSegmentResponse {
  url: string;
  method: "PUT";
  /** Headers the PUT must carry as signed (e.g. `content-length`, which HTTP stacks set themselves). */
  headers: Record<string, string>;
  expiresAt: string;
}

/** `POST /v1/uploads/{id}/segments/{index}/confirm`: the segment the client PUT to storage directly. */
export interface ConfirmSegmentRequest {
  /** Lower-case hex SHA-256 of the segment's bytes, as the client computed it. */
  sha256: string;
  size: number;
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
  /** The application's user (set by its authorizer or its API-key create). */
  owner?: string;
  /** The application's free-form strings for this upload. */
  metadata?: Record<string, string>;
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
