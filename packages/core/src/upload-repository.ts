import type { CancelReason, CancelReport } from "./cancel-report.js";
import type { StoredSegment, UploadState, VideoInfo } from "./upload.js";
import type { EventDraft, UploadEvent, UploadMetadata } from "./upload-events.js";

/** An upload as the metadata store keeps it. Times are epoch milliseconds. */
export interface UploadRecord {
  id: string;
  tokenHash: string;
  filename: string;
  contentType: string;
  size: number;
  segmentSize: number;
  segmentCount: number;
  state: UploadState;
  storageRef: string;
  createdAt: number;
  expiresAt: number;
  updatedAt: number;
  videoId?: string;
  cancelReason?: CancelReason;
  cancelReport?: CancelReport;
  /** When the cleanup of a `cancelling` upload is next due. */
  nextCleanupAt?: number;
  errorCode?: string;
  errorMessage?: string;
  /** Who created it (an API key's or a client address's fingerprint): the open-upload cap counts per creator. */
  creator?: string;
  /** The application's user this upload belongs to (set by the authorizer or an API-key create). */
  owner?: string;
  /** Free-form strings from the creation or the authorizer; echoed by GET and in every event. */
  metadata?: UploadMetadata;
  /** Set for uploads created through the tus 1.0 endpoint (`/files/`). */
  tus?: TusUploadFacts;
}

/** What a tus upload keeps beyond a v1 upload's record. */
export interface TusUploadFacts {
  /** The `Upload-Metadata` header as the client sent it: HEAD returns it verbatim. */
  metadata?: string;
  /**
   * `partial`: one piece of a parallel upload, never a video by itself; `final`: the
   * concatenation of the partial uploads `parts` (ids, in order).
   */
  concat?: { kind: "partial" } | { kind: "final"; parts: string[] };
  /**
   * Bytes received past the last complete segment (a PATCH may end at any byte), kept by
   * `SegmentStore.savePartialSegment`. They count toward the offset only while `index` is the
   * next segment to write: a crash between storing that segment and clearing this field cannot
   * count the same bytes twice.
   */
  partial?: { index: number; bytes: number };
}

export type NewUpload = Omit<UploadRecord, "updatedAt" | "state"> & { state?: UploadState };

export type UploadPatch = Partial<
  Pick<
    UploadRecord,
    | "videoId"
    | "cancelReason"
    | "cancelReport"
    | "nextCleanupAt"
    | "errorCode"
    | "errorMessage"
    | "storageRef"
    | "expiresAt"
    | "tus"
  >
>;

export interface SegmentTally {
  count: number;
  bytes: number;
}

/**
 * Upload metadata. State changes go through `transition`, a compare-and-set, so two
 * requests (or two server instances) can never both win the same change.
 *
 * The methods that change what an application is told about take an optional `event`: it is
 * written to the event outbox in the same transaction as the change (and only if the change
 * happened), then announced to `onEventCommitted` listeners of this process.
 */
export interface UploadRepository {
  createUpload(upload: NewUpload, signal: AbortSignal, event?: EventDraft): Promise<UploadRecord>;
  getUpload(id: string, signal: AbortSignal): Promise<UploadRecord | undefined>;
  listUploads(
    options: { limit: number; states?: readonly UploadState[]; owner?: string },
    signal: AbortSignal,
  ): Promise<UploadRecord[]>;
  /** Uploads of `creator` still `uploading` or `completing`: what the per-client cap counts. */
  countOpenUploads(creator: string, signal: AbortSignal): Promise<number>;
  /** How many uploads are in each state (every state present, 0 when none): one query, for metrics and readiness. */
  countUploadsByState(signal: AbortSignal): Promise<Record<UploadState, number>>;

  /** Moves the upload to `to` only if it is in one of `from`; returns the new record, or undefined if it was not. */
  transition(
    id: string,
    from: readonly UploadState[],
    to: UploadState,
    patch: UploadPatch,
    signal: AbortSignal,
    event?: EventDraft,
  ): Promise<UploadRecord | undefined>;
  /** Changes fields without changing state. */
  patchUpload(id: string, patch: UploadPatch, signal: AbortSignal, event?: EventDraft): Promise<void>;

  recordSegment(id: string, segment: StoredSegment, signal: AbortSignal): Promise<void>;
  forgetSegment(id: string, index: number, signal: AbortSignal): Promise<void>;
  forgetAllSegments(id: string, signal: AbortSignal): Promise<void>;
  tallySegments(id: string, signal: AbortSignal): Promise<SegmentTally>;
  /** The segments recorded for the upload, by index: what a store that keeps no hashes (S3) looks up. */
  listRecordedSegments(id: string, signal: AbortSignal): Promise<StoredSegment[]>;

  /** Uploads still `uploading` whose `expiresAt` has passed. */
  listExpired(now: number, limit: number, signal: AbortSignal): Promise<UploadRecord[]>;
  /** Uploads `cancelling` whose next cleanup attempt is due (or was never scheduled: a crash mid-cancel). */
  listCleanupDue(now: number, limit: number, signal: AbortSignal): Promise<UploadRecord[]>;
  /**
   * Forgets cancelled and failed uploads whose `expiresAt` and last change are both before
   * `before`: until then they keep answering GET with their report. Returns how many went.
   */
  purgeFinished(before: number, limit: number, signal: AbortSignal): Promise<number>;
  /**
   * Forgets outbox events recorded before `before` that no webhook delivery still waits for
   * (delivered, dead-lettered, or never fanned out because no webhook URL was configured), with
   * their delivery rows. Returns how many events went.
   */
  pruneEvents(before: number, limit: number, signal: AbortSignal): Promise<number>;
  /** Uploads left `completing` by a crash. */
  listStuckCompleting(signal: AbortSignal): Promise<UploadRecord[]>;

  createVideo(video: VideoInfo & { storageKey: string }, signal: AbortSignal): Promise<void>;
  getVideo(id: string, signal: AbortSignal): Promise<(VideoInfo & { storageKey: string }) | undefined>;
  /** `event` is recorded only when a video row was deleted (a repeated delete reports nothing). */
  deleteVideo(id: string, signal: AbortSignal, event?: EventDraft): Promise<void>;

  /**
   * Calls `listener` after an event this process wrote has committed (the outbox row exists).
   * Events other instances write are not announced here; the webhook dispatcher polls for them.
   */
  onEventCommitted(listener: (event: UploadEvent) => void): () => void;

  close(): Promise<void>;
}

export type { CancelReport };
