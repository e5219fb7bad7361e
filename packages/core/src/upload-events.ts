import type { CancelReport } from "./cancel-report.js";
import type { VideoProbe } from "./upload.js";

/**
 * What the server tells the application about its uploads, as in-process events and as signed
 * webhooks (Standard Webhooks). Each is recorded in the same database transaction as the state
 * change it reports (a durable outbox), so none is lost to a crash and none reports a change
 * that did not commit.
 */
export const uploadEventTypes = [
  "upload.created",
  "upload.completed",
  "upload.failed",
  "upload.cancelled",
  "upload.cancel_pending",
  "upload.expired",
  "video.deleted",
] as const;
export type UploadEventType = (typeof uploadEventTypes)[number];

/** Free-form strings the application attached to an upload (at most 4 KiB as JSON). */
export type UploadMetadata = Record<string, string>;

/** What each event says beyond the fields every event carries. */
export interface UploadEventData {
  "upload.created": {
    filename: string;
    size: number;
    contentType: string;
    segmentSize: number;
    segmentCount: number;
    expiresAt: string;
    /** `v1` for `POST /v1/uploads`, `tus` for a creation at `/files/`. */
    protocol: "v1" | "tus";
  };
  "upload.completed": { videoId: string; size: number; sha256: string; probe: VideoProbe };
  /** The upload ended without a video (e.g. `not_a_video`); its storage was removed, verified. */
  "upload.failed": { code: string; message: string; report?: CancelReport };
  /** A cancel verified empty: `report.verified` is true. */
  "upload.cancelled": { report: CancelReport };
  /** A cleanup that could not finish yet (the 202): its failures; `upload.cancelled` or `upload.expired` follows once verified. */
  "upload.cancel_pending": { report: CancelReport };
  /** The server cancelled an upload nobody finished before `expiresAt`, verified empty. */
  "upload.expired": { report: CancelReport };
  "video.deleted": { videoId: string };
}

/** The fields every event carries about its upload. */
export interface UploadEventSubject {
  uploadId: string;
  /** Set by the application's authorizer (or its API-key create); absent otherwise. */
  owner?: string;
  metadata?: UploadMetadata;
}

/** One event: the body of its webhook POST and the payload of its in-process event. */
export interface UploadEvent<K extends UploadEventType = UploadEventType> {
  /** Unique and stable across retries: the `webhook-id`, for the receiver's de-duplication. */
  id: string;
  type: K;
  /** When the state change committed (ISO 8601). */
  timestamp: string;
  data: UploadEventSubject & UploadEventData[K];
}

/** In-process event map: `server.events.on("upload.cancelled", (event) => …)`. */
export type UploadEventMap = { [K in UploadEventType]: UploadEvent<K> };

/** What a state change asks the repository to record with it, in the same transaction. */
export type EventDraft = { [K in UploadEventType]: { type: K; data: UploadEventData[K] } }[UploadEventType];
