import type { Remnant } from "./cancel-report.js";
import type { StoredSegment } from "./upload.js";

/** What the metadata keeps about an upload's storage: its id plus the store's own reference (an S3 UploadId, ...). */
export interface UploadHandle {
  readonly id: string;
  readonly storageRef: string;
}

export interface SegmentWrite {
  index: number;
  /** Exact number of bytes the segment must have. */
  size: number;
  /** Lower-case hex SHA-256 the bytes must hash to, when the sender declared one. */
  sha256?: string;
}

/** The first bytes of a segment that is not complete yet (see `SegmentStore.savePartialSegment`). */
export interface PartialSegment {
  index: number;
  bytes: Uint8Array;
}

export interface SegmentSizeLimits {
  min: number;
  max: number;
  maxSegments: number;
}

export interface AssembledVideo {
  key: string;
  size: number;
  sha256: string;
  /**
   * The video's first bytes, when the store read them back from storage while assembling (S3
   * reads the joined object whole to hash it): the container check uses them instead of
   * reading them again.
   */
  head?: Uint8Array;
}

/** A URL that lets its holder store one segment's bytes directly, and nothing else (no read, no delete). */
export interface PresignedSegmentUpload {
  url: string;
  /** Headers the request must carry (they are part of the signature). */
  headers: Record<string, string>;
}

/**
 * One thing storage holds, named by the id storage itself files it under. Upload-owned
 * entries (`segments`, `temp`, and S3's completed object at the upload's key) carry the
 * upload id; a disk video file carries its video id.
 */
export interface StoredEntry {
  /** The upload id or video id the entry is filed under (see `owner`). */
  ownerId: string;
  owner: "upload" | "video";
  /** `segments`: an upload's container and complete segments; `temp`: partial/temp files; `video`: a finished video. */
  kind: "segments" | "temp" | "video";
  bytes: number;
  /** Storage-relative name, for reports (a folder, a file, an object key + multipart UploadId). */
  name: string;
  /** When storage last saw it change (epoch ms): a grace period is measured from here. */
  modifiedAt: number;
  /** For upload-owned entries: the store's reference for `UploadHandle.storageRef` (an S3 UploadId). */
  storageRef?: string;
  /** For `video` entries: the key `VideoStore` methods take. */
  videoKey?: string;
}

/**
 * Where segments live. Every method takes an AbortSignal and must, when aborted, leave no
 * partial bytes behind before its promise settles: cancel waits for that, then lists.
 */
export interface SegmentStore {
  readonly kind: string;
  readonly segmentSizeLimits: SegmentSizeLimits;
  /**
   * Whether `deleteSegment` can remove one segment of an upload in progress. When false (S3:
   * a part of a multipart upload cannot be deleted alone), cleanup removes all segments at
   * once with `discardUpload` and verifies with `listRemnants`.
   */
  readonly deletesSegmentsIndividually: boolean;

  /** Prepares storage for a new upload; the returned reference is kept in metadata. */
  beginUpload(uploadId: string, contentType: string, signal: AbortSignal): Promise<string>;

  /**
   * Streams one segment. It becomes visible to `listSegments` only once all `size` bytes
   * arrived and matched `sha256`. Too many, too few or mismatching bytes reject with a
   * CleancutError and leave nothing.
   */
  writeSegment(
    upload: UploadHandle,
    write: SegmentWrite,
    body: AsyncIterable<Uint8Array>,
    signal: AbortSignal,
  ): Promise<StoredSegment>;

  /**
   * Keeps the first bytes of segment `index` when the request carrying them ended before the
   * segment was full (a tus PATCH may end at any byte), until a later request brings the rest.
   * At most one partial segment per upload: writing one replaces any earlier one, atomically
   * (a reader sees the old bytes or the new, never a mix). It is never listed by
   * `listSegments`; `listRemnants` and `listStoredEntries` (kind `temp`) list it, and
   * `discardUpload` removes it.
   */
  savePartialSegment(
    upload: UploadHandle,
    index: number,
    bytes: Uint8Array,
    signal: AbortSignal,
  ): Promise<void>;

  /** The partial segment `savePartialSegment` kept, or undefined when there is none. */
  loadPartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<PartialSegment | undefined>;

  /** Removes the upload's partial segment. Removing one that is not there succeeds. */
  deletePartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<void>;

  /** The complete segments storage holds, by index. Listed from storage, never from a cache. */
  listSegments(upload: UploadHandle, signal: AbortSignal): Promise<StoredSegment[]>;

  /** Deletes one segment. Deleting a segment that is not there succeeds. */
  deleteSegment(upload: UploadHandle, index: number, signal: AbortSignal): Promise<void>;

  /** Everything storage still holds for the upload, temp and partial objects included. Empty means gone. */
  listRemnants(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[]>;

  /**
   * Removes whatever else is left of the upload (temp files, its folder, a multipart upload).
   * Idempotent. A store that lists what is left after its own deletes (S3 must, since parts
   * in flight can land after an abort) resolves with that listing, made as `listRemnants`
   * makes it, so a cleanup need not list again; one that does not resolves with undefined.
   */
  discardUpload(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[] | undefined>;

  /**
   * Optional capability (S3): a URL to PUT segment `index` (exactly `size` bytes) straight to
   * storage, valid `expiresSeconds`. Stores without it (disk) refuse direct-mode uploads.
   */
  presignSegmentUpload?(
    upload: UploadHandle,
    index: number,
    size: number,
    expiresSeconds: number,
  ): Promise<PresignedSegmentUpload>;

  /**
   * Goes with `presignSegmentUpload`: the size of segment `index` as storage itself holds it
   * (bytes that did not pass through the server), or undefined when it holds none.
   */
  statSegment?(upload: UploadHandle, index: number, signal: AbortSignal): Promise<number | undefined>;

  /**
   * Everything this store holds, uploads in progress and finished videos alike, as storage
   * itself lists it (a directory listing, ListMultipartUploads + ListObjectsV2), never from
   * the database or a cache: it is how the orphan reconciler finds bytes no record owns, so it
   * must see exactly what the metadata may have lost track of. Names that are not this
   * store's own (not a valid id, not under its prefix) are left out.
   */
  listStoredEntries(signal: AbortSignal): Promise<StoredEntry[]>;

  /** Joins the segments in index order into a video in the video store. */
  assemble(
    upload: UploadHandle,
    segments: readonly StoredSegment[],
    videoId: string,
    signal: AbortSignal,
  ): Promise<AssembledVideo>;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

/** Where finished videos live. */
export interface VideoStore {
  /** Size in bytes, or undefined when the video is not there. */
  statVideo(key: string, signal: AbortSignal): Promise<number | undefined>;
  readVideo(
    key: string,
    range: ByteRange | undefined,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array>>;
  /** A path or URL a prober such as ffprobe can read. */
  probeLocation(key: string): string;
  /** Idempotent. */
  deleteVideo(key: string, signal: AbortSignal): Promise<void>;
}
