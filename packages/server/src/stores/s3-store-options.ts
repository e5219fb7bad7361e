import type { S3Client } from "@aws-sdk/client-s3";
import type { StoredSegment } from "@cleancut/core";
import type { BackoffPolicy } from "../cancel/backoff.js";

export interface S3StoreCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/**
 * Where the SHA-256 of stored segments comes from when this process did not write them itself
 * (another instance, a restart): the segments the route recorded with
 * `repository.recordSegment`, for one upload. Only a record whose size matches the part is used.
 */
export type RecordedSegmentsLookup = (
  uploadId: string,
  signal: AbortSignal,
) => Promise<Iterable<StoredSegment>>;

export interface S3StoreOptions {
  bucket: string;
  /** e.g. `http://127.0.0.1:18080`; omitted for AWS itself. */
  endpoint?: string;
  region: string;
  /** Static credentials: `probeLocation` signs its URL synchronously with them. */
  credentials: S3StoreCredentials;
  /** Path-style URLs (`endpoint/bucket/key`); needed by Swift, MinIO and friends. Default true. */
  forcePathStyle?: boolean;
  /** Object key prefix of videos. Default `videos/`. */
  keyPrefix?: string;
  recordedSegments?: RecordedSegmentsLookup;
  /** How long a `probeLocation` URL stays valid. Default 1 hour. */
  probeUrlExpiresSeconds?: number;
  /** Rounds and backoff of `discardUpload`'s abort-and-verify loop. */
  discard?: { rounds: number; backoff: BackoffPolicy };
  /** Replaces the client built from the options above (tests, custom middleware). */
  client?: S3Client;
}
