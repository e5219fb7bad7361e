import { Readable } from "node:stream";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type Part,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  type AssembledVideo,
  type ByteRange,
  GiB,
  InvalidSegmentIndexError,
  InvalidSegmentSizeError,
  MiB,
  type PartialSegment,
  type PresignedSegmentUpload,
  RangeNotSatisfiableError,
  type Remnant,
  type SegmentSizeLimits,
  type SegmentStore,
  SegmentsMissingError,
  type SegmentWrite,
  StorageUnavailableError,
  type StoredEntry,
  type StoredSegment,
  UnsupportedOperationError,
  type UploadHandle,
  VideoNotFoundError,
  type VideoStore,
} from "@cleancut/core";
import { type BackoffPolicy, backoffDelay, sleep } from "../cancel/backoff.js";
import { assertValidId } from "../ids.js";
import { createS3Client } from "./s3-client.js";
import { allSettledOrThrow, callS3, errorName, isUploadGone, mapS3Error, s3Failure } from "./s3-errors.js";
import { S3MultipartRequests } from "./s3-multipart.js";
import { checkStreamedObject, hashStoredObject } from "./s3-object-hash.js";
import { uploadCheckedPart } from "./s3-part-upload.js";
import { getPartialSegment, partialSegmentKey, putPartialSegment } from "./s3-partial-segment.js";
import { presignGetUrl } from "./s3-presign-get.js";
import { presignPartUpload } from "./s3-presign-part.js";
import type { S3StoreOptions } from "./s3-store-options.js";
import { listS3StoredEntries } from "./s3-stored-entries.js";
import { WrittenParts } from "./s3-written-parts.js";
import { type SegmentTap, StreamedVideoHasher } from "./streamed-video-hasher.js";

/** As many first bytes as `inspectVideo` reads: `assemble` hands them back for the container check. */
const keptHeadBytes = 4096;

export { createS3Client } from "./s3-client.js";
export { presignGetUrl } from "./s3-presign-get.js";
export type { RecordedSegmentsLookup, S3StoreCredentials, S3StoreOptions } from "./s3-store-options.js";

/**
 * Segments as the parts of ONE S3 multipart upload per cleancut upload, at the key
 * `<keyPrefix><uploadId>`; the finished video is the object CompleteMultipartUpload makes
 * there (S3 joins the parts; no byte goes through this server to join them).
 *
 * Design decisions:
 * - Per-segment delete: S3 cannot delete one part of a multipart upload, so
 *   `deletesSegmentsIndividually` is false; cleanup aborts the whole multipart upload in
 *   `discardUpload` and verifies with `listRemnants`. `deleteSegment` succeeds when there is
 *   nothing to delete and otherwise throws `UnsupportedOperationError` (501).
 * - SHA-256: S3 keeps only an MD5 ETag per part. `writeSegment` hashes the bytes as they
 *   stream (SHA-256 and MD5) and remembers, in this process, `{size, etag, sha256}` per part;
 *   `listSegments` lists the parts from S3 (never from that memory) and takes the SHA-256 from
 *   the remembered entry only when S3's ETag and size match it, else from the injected
 *   `recordedSegments` lookup (the route's `recordSegment` rows) when the size matches. A part
 *   with no trustworthy SHA-256 is not listed as a segment (the client sends it again, which
 *   overwrites it), but `listRemnants` still shows it, so cleanup never misses it.
 * - Too many / too few / mismatching bytes: the body streams through `hashingCounter`, and
 *   the LAST chunk is held back until the body has ended, its length is exact and its SHA-256
 *   matches the declared Content-Digest. A body that fails any check is therefore cut before
 *   S3 received `ContentLength` bytes, and S3 never stores the part (an older good version of
 *   the same part number stays). If a mismatch were ever detected after S3 stored a part (an
 *   ETag that is not the MD5 we computed), the bad part stays stored: re-sending the segment
 *   overwrites the part number, and cancel (AbortMultipartUpload) removes it in any case.
 * - Verification: `discardUpload` aborts, then loops ListParts + ListMultipartUploads (prefix =
 *   the key) and aborts again, with backoff, until the upload is gone (NoSuchUpload = gone),
 *   because a part in flight may land after an abort. It also deletes the object at the key,
 *   in case a CompleteMultipartUpload racing the cancel made it — unless this process's own
 *   `assemble` returned it (the completed upload's purge must not delete the video). Calls
 *   that do not depend on each other run at once (a cancel waits for S3 round trips in a
 *   row, not for the calls): one round is [abort ours and any other upload the previous
 *   round listed, delete the object, delete the partial segment] then [list parts, list
 *   uploads, head the partial segment]; the verification only starts once every delete call
 *   of the round has finished. A round that aborts nothing (after `assemble`: only the partial
 *   segment to delete) lists the multipart uploads alongside its deletes.
 * - Complete: `assemble` completes with the ETags `listSegments` listed for exactly the segment
 *   objects it is given (no second ListParts; a part overwritten since no longer has that
 *   ETag and S3 refuses it), else it lists the parts itself. The read-back that hashes the
 *   joined object keeps its first 4 KiB, and the range read of them that the completion's
 *   container check makes next is served from those, once.
 * - Video keys: `assemble` returns the object key. Any key that is not under `keyPrefix`
 *   (such as a bare video id) names no object of this store: stat says absent, delete is a
 *   no-op. The object a racing complete made is covered by `discardUpload`/`listRemnants`.
 * - Partial segment: one plain object at `<keyPrefix>partial/<uploadId>` (see
 *   `s3-partial-segment.ts`); `listRemnants` heads it and `discardUpload` deletes it alongside
 *   the multipart requests, concurrently, so a cancel waits no longer for it.
 */
export class S3Store implements SegmentStore, VideoStore {
  readonly kind = "s3";
  readonly deletesSegmentsIndividually = false;
  readonly segmentSizeLimits: SegmentSizeLimits = { min: 5 * MiB, max: 5 * GiB, maxSegments: 10_000 };
  readonly client: S3Client;
  readonly bucket: string;
  readonly #options: S3StoreOptions;
  readonly #prefix: string;
  readonly #discard: { rounds: number; backoff: BackoffPolicy };
  /** Parts this process wrote: the source of their SHA-256. */
  readonly #written = new WrittenParts();
  /** The videos' SHA-256 from the bytes of the segments this server streamed to S3 (proxied mode). */
  readonly #videoHashes = new StreamedVideoHasher();
  /** Keys whose `assemble` returned here: the completed video, kept by `discardUpload`. */
  readonly #assembled = new Set<string>();
  readonly #requests: S3MultipartRequests;
  /**
   * The ETag each segment `listSegments` returned was listed with: `assemble` given exactly
   * those segment objects completes the upload with them instead of listing the parts again.
   * A part overwritten since has another ETag, and CompleteMultipartUpload refuses it.
   */
  readonly #listedEtags = new WeakMap<StoredSegment, string>();

  constructor(options: S3StoreOptions) {
    this.#options = options;
    this.bucket = options.bucket;
    this.#prefix = options.keyPrefix ?? "videos/";
    this.#discard = options.discard ?? { rounds: 10, backoff: { baseMs: 50, maxMs: 2_000 } };
    this.client = options.client ?? createS3Client(options);
    this.#requests = new S3MultipartRequests(this.client, this.bucket);
  }

  /** The object key of an upload: its multipart upload's key, later its video's. */
  objectKey(uploadId: string): string {
    assertValidId(uploadId);
    return `${this.#prefix}${uploadId}`;
  }

  async beginUpload(uploadId: string, contentType: string, signal: AbortSignal): Promise<string> {
    const key = this.objectKey(uploadId);
    signal.throwIfAborted();
    // Not cut by `signal`: a CreateMultipartUpload cut mid-way may still create the upload on
    // S3's side after we stopped listening, and nothing would record it. It runs to its answer
    // instead, and an upload made for a request that was cancelled meanwhile is aborted before
    // this settles (as every store method must leave nothing behind when aborted).
    const created = await callS3(signal, () =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
      ),
    );
    if (created.UploadId === undefined) throw new StorageUnavailableError("S3 returned no UploadId");
    if (signal.aborted) {
      await this.#requests.abort(key, created.UploadId, new AbortController().signal);
      throw signal.reason;
    }
    return created.UploadId;
  }

  async writeSegment(
    upload: UploadHandle,
    write: SegmentWrite,
    body: AsyncIterable<Uint8Array>,
    signal: AbortSignal,
  ): Promise<StoredSegment> {
    this.#checkIndex(write.index);
    if (write.size > this.segmentSizeLimits.max) {
      throw new InvalidSegmentSizeError(`segment ${write.index} is larger than S3's 5 GiB part limit`);
    }
    const key = this.objectKey(upload.id);
    const tap = this.#videoHashes.tap(upload.id, write.index);
    try {
      const { etag, sha256 } = await uploadCheckedPart(
        this.client,
        { bucket: this.bucket, key, uploadId: upload.storageRef },
        write,
        tapped(body, tap),
        signal,
      );
      this.#written.remember(upload.id, write.index, { size: write.size, etag, sha256 });
      tap.stored(sha256);
      return { index: write.index, size: write.size, sha256 };
    } catch (error) {
      tap.failed();
      throw error;
    }
  }

  /** Direct uploads: see `presignPartUpload` for what the URL can and cannot do. */
  async presignSegmentUpload(
    upload: UploadHandle,
    index: number,
    size: number,
    expiresSeconds: number,
  ): Promise<PresignedSegmentUpload> {
    this.#checkIndex(index);
    if (size > this.segmentSizeLimits.max) {
      throw new InvalidSegmentSizeError(`segment ${index} is larger than S3's 5 GiB part limit`);
    }
    return presignPartUpload(
      this.client,
      {
        bucket: this.bucket,
        key: this.objectKey(upload.id),
        uploadId: upload.storageRef,
        partNumber: index + 1,
        size,
      },
      expiresSeconds,
    );
  }

  /** The size of part `index` as S3 lists it (ListParts), or undefined when S3 holds no such part. */
  async statSegment(upload: UploadHandle, index: number, signal: AbortSignal): Promise<number | undefined> {
    this.#checkIndex(index);
    return this.#requests.partSize(this.objectKey(upload.id), upload.storageRef, index + 1, signal);
  }

  async savePartialSegment(
    upload: UploadHandle,
    index: number,
    bytes: Uint8Array,
    signal: AbortSignal,
  ): Promise<void> {
    this.#checkIndex(index);
    await putPartialSegment(this.client, this.#partialObject(upload.id), index, bytes, signal);
  }

  async loadPartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<PartialSegment | undefined> {
    return getPartialSegment(this.client, this.#partialObject(upload.id), signal);
  }

  async deletePartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<void> {
    await this.#requests.deleteObject(this.#partialObject(upload.id).key, signal);
  }

  #partialObject(uploadId: string): { bucket: string; key: string } {
    assertValidId(uploadId);
    return { bucket: this.bucket, key: partialSegmentKey(this.#prefix, uploadId) };
  }

  async listSegments(upload: UploadHandle, signal: AbortSignal): Promise<StoredSegment[]> {
    const parts = await this.#requests.listParts(this.objectKey(upload.id), upload.storageRef, signal);
    if (parts === undefined || parts.length === 0) return [];
    const segments = await this.#written.segments(upload.id, parts, this.#options.recordedSegments, signal);
    const etags = new Map(parts.map((part) => [part.PartNumber, part]));
    for (const segment of segments) {
      const part = etags.get(segment.index + 1);
      if (part?.ETag !== undefined && part.Size === segment.size) this.#listedEtags.set(segment, part.ETag);
    }
    return segments;
  }

  async deleteSegment(upload: UploadHandle, index: number, signal: AbortSignal): Promise<void> {
    this.#checkIndex(index);
    const parts = await this.#requests.listParts(this.objectKey(upload.id), upload.storageRef, signal);
    if (parts === undefined || !parts.some((part) => part.PartNumber === index + 1)) return;
    throw new UnsupportedOperationError(
      `S3 cannot delete segment ${index} alone from a multipart upload in progress; cancel the upload (AbortMultipartUpload removes every part) or send the segment again to overwrite it`,
      { details: { index } },
    );
  }

  async listRemnants(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[]> {
    const key = this.objectKey(upload.id);
    const partialKey = this.#partialObject(upload.id).key;
    // Once completed here, the upload's parts are the video's bytes (Swift keeps listing them
    // under the UploadId until the object goes; AWS answers NoSuchUpload) and the object is the
    // video: neither is a remnant.
    const completed = this.#assembled.has(key);
    // Every listing that does not depend on another runs at once: a cancel's verification
    // waits for one round trip to S3, not four in a row. Only a multipart upload that
    // ListMultipartUploads finds besides ours needs a second round (its ListParts).
    const [others, ours, objectSize, partialSize] = await allSettledOrThrow([
      this.#requests.listUploads(key, signal),
      completed ? undefined : this.#requests.listParts(key, upload.storageRef, signal),
      completed ? undefined : this.#requests.headObject(key, signal),
      this.#requests.headObject(partialKey, signal),
    ]);
    const otherIds = [...new Set(others)].filter((uploadId) => completed || uploadId !== upload.storageRef);
    const otherParts = await allSettledOrThrow(
      otherIds.map((uploadId) => this.#requests.listParts(key, uploadId, signal)),
    );
    const remnants: Remnant[] = [];
    const addUpload = (uploadId: string, parts: Part[] | undefined) => {
      if (parts === undefined) return;
      remnants.push({ name: `${key} multipart upload ${uploadId}`, size: 0 });
      for (const part of parts) {
        remnants.push({
          ...(part.PartNumber === undefined ? {} : { index: part.PartNumber - 1 }),
          name: `${key} upload ${uploadId} part ${part.PartNumber}`,
          size: part.Size ?? 0,
        });
      }
    };
    if (!completed) addUpload(upload.storageRef, ours);
    for (const [i, uploadId] of otherIds.entries()) addUpload(uploadId, otherParts[i]);
    if (objectSize !== undefined) remnants.push({ name: key, size: objectSize });
    if (partialSize !== undefined) remnants.push({ name: partialKey, size: partialSize });
    return remnants;
  }

  async discardUpload(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[]> {
    const key = this.objectKey(upload.id);
    const partialKey = this.#partialObject(upload.id).key;
    // Completed by this process's `assemble`: the object is the video and its parts are the
    // video's bytes; only stray multipart uploads at the key (and the partial segment, never
    // part of the video) are removed.
    const completed = this.#assembled.has(key);
    let partialLeft = true;
    // Other multipart uploads at the key: each round's verification lists them and the next
    // round aborts them, so a round needs no listing of its own before it deletes. (Almost
    // always there is none; one that exists costs one more round.)
    let listed: string[] = [];
    for (let round = 1; ; round++) {
      const uploadIds = new Set([...(completed ? [] : [upload.storageRef]), ...listed]);
      // A round that aborts no multipart upload (a completed upload's first round, almost
      // always its only one) cannot change what ListMultipartUploads finds: that listing runs
      // alongside the round's deletes instead of after them.
      const early = uploadIds.size === 0 ? this.#requests.listUploads(key, signal) : undefined;
      // Every delete of the round at once: none depends on another, and the verification
      // below starts only once all of them finished.
      await allSettledOrThrow([
        early,
        ...[...uploadIds].map((uploadId) => this.#requests.abort(key, uploadId, signal)),
        // A CompleteMultipartUpload racing the cancel may have made the object.
        completed ? undefined : this.#requests.deleteObject(key, signal),
        partialLeft ? this.#requests.deleteObject(partialKey, signal) : undefined,
      ]);
      // Verify: parts in flight may land after an abort and keep the upload alive, a
      // partial segment being saved may land after its delete, and a racing complete may make
      // the object after it. The same listings as `listRemnants`, so the cleanup uses this one.
      const [parts, others, partial, object] = await allSettledOrThrow([
        completed ? undefined : this.#requests.listParts(key, upload.storageRef, signal),
        early ?? this.#requests.listUploads(key, signal),
        this.#requests.headObject(partialKey, signal),
        completed ? undefined : this.#requests.headObject(key, signal),
      ]);
      const left = parts !== undefined;
      partialLeft = partial !== undefined;
      listed = others;
      if (!left && others.length === 0 && !partialLeft && object === undefined) {
        this.#written.forget(upload.id);
        this.#videoHashes.forget(upload.id);
        return [];
      }
      if (round >= this.#discard.rounds) {
        throw new StorageUnavailableError(
          `storage of ${key} still present after ${round} discard rounds; the next cleanup attempt retries`,
          {
            details: {
              uploads: [...(left ? [upload.storageRef] : []), ...others],
              ...(partialLeft ? { partialSegment: partialKey } : {}),
              ...(object === undefined ? {} : { object: key }),
            },
          },
        );
      }
      await sleep(backoffDelay(this.#discard.backoff, round), signal);
    }
  }

  /** Everything under the key prefix, as storage lists it (see `listS3StoredEntries`). */
  async listStoredEntries(signal: AbortSignal): Promise<StoredEntry[]> {
    return listS3StoredEntries(this.#requests, this.#prefix, signal);
  }

  async assemble(
    upload: UploadHandle,
    segments: readonly StoredSegment[],
    _videoId: string,
    signal: AbortSignal,
  ): Promise<AssembledVideo> {
    const key = this.objectKey(upload.id);
    const gone = () => new SegmentsMissingError(`the multipart upload of ${key} is gone`);
    const ordered = [...segments].sort((a, b) => a.index - b.index);
    // Segments as `listSegments` just returned them carry the ETag S3 listed them with: no
    // second ListParts. Any other segment (from elsewhere) is checked against a new listing.
    let etagOf = (segment: StoredSegment): string | undefined => this.#listedEtags.get(segment);
    if (!ordered.every((segment) => etagOf(segment) !== undefined)) {
      const parts = await this.#requests.listParts(key, upload.storageRef, signal);
      if (parts === undefined) throw gone();
      const byNumber = new Map(parts.map((part) => [part.PartNumber, part]));
      etagOf = (segment) => {
        const part = byNumber.get(segment.index + 1);
        return part?.Size === segment.size ? part.ETag : undefined;
      };
    }
    const completed: Array<{ PartNumber: number; ETag: string }> = [];
    for (const segment of ordered) {
      const etag = etagOf(segment);
      if (etag === undefined) {
        throw new SegmentsMissingError(`segment ${segment.index} is not stored as listed`, {
          details: { index: segment.index },
        });
      }
      completed.push({ PartNumber: segment.index + 1, ETag: etag });
    }
    const total = ordered.reduce((sum, segment) => sum + segment.size, 0);
    // Parts not named here (indexes past the end) are dropped by S3 with the upload. A part
    // overwritten since it was listed no longer has the listed ETag: S3 refuses it (InvalidPart,
    // a SegmentsMissingError) rather than join bytes other than the listed segment's.
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: upload.storageRef,
          MultipartUpload: { Parts: completed },
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (isUploadGone(error) && !signal.aborted) throw gone();
      throw s3Failure(error, signal, `completing the multipart upload of ${key}`);
    }
    // S3 knows no SHA-256 of the whole. When every segment streamed through this server, it
    // was hashed on the way; otherwise read the joined object back once and hash it, which
    // also proves its length. (If this fails the object stays: a cancel's discardUpload
    // removes it; it is only kept once `assemble` has returned.)
    const streamed = this.#videoHashes.prefix(upload.id, ordered);
    const { sha256, head } =
      streamed?.count === ordered.length
        ? await checkStreamedObject(
            {
              size: () => this.#requests.headObject(key, signal),
              readHead: (bytes) => this.readVideo(key, { start: 0, end: bytes - 1 }, signal),
            },
            key,
            total,
            streamed.hash.digest("hex"),
            keptHeadBytes,
            signal,
          )
        : await hashStoredObject(
            () => this.readVideo(key, undefined, signal),
            key,
            total,
            signal,
            keptHeadBytes,
          );
    this.#assembled.add(key);
    this.#written.forget(upload.id);
    this.#videoHashes.forget(upload.id);
    return { key, size: total, sha256, head };
  }

  async statVideo(key: string, signal: AbortSignal): Promise<number | undefined> {
    if (!this.#ownsKey(key)) return undefined;
    return this.#requests.headObject(key, signal);
  }

  async readVideo(
    key: string,
    range: ByteRange | undefined,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array>> {
    if (!this.#ownsKey(key)) throw new VideoNotFoundError(`video ${key} does not exist`);
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range === undefined ? {} : { Range: `bytes=${range.start}-${range.end}` }),
        }),
        { abortSignal: signal },
      );
      if (!(response.Body instanceof Readable))
        throw new StorageUnavailableError("S3 returned no body stream");
      return response.Body;
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      const name = errorName(error);
      if (name === "NoSuchKey" || name === "NotFound") {
        throw new VideoNotFoundError(`video ${key} does not exist`, { cause: error });
      }
      if (name === "InvalidRange") {
        throw new RangeNotSatisfiableError(`range not satisfiable for video ${key}`, { cause: error });
      }
      throw mapS3Error(error, `video ${key}`);
    }
  }

  /**
   * A presigned GET URL (SigV4, query-signed), signed synchronously here because the
   * interface is synchronous; ffprobe reads it over http with range requests.
   */
  probeLocation(key: string): string {
    const endpoint = this.#options.endpoint;
    if (endpoint === undefined || !(this.#options.forcePathStyle ?? true)) {
      throw new UnsupportedOperationError("probeLocation needs a path-style S3 endpoint");
    }
    return presignGetUrl({
      endpoint,
      region: this.#options.region,
      credentials: this.#options.credentials,
      bucket: this.bucket,
      key,
      expiresSeconds: this.#options.probeUrlExpiresSeconds ?? 3600,
      now: new Date(),
    });
  }

  async deleteVideo(key: string, signal: AbortSignal): Promise<void> {
    if (!this.#ownsKey(key)) return;
    await this.#requests.deleteObject(key, signal);
    this.#assembled.delete(key);
  }

  #ownsKey(key: string): boolean {
    return key.startsWith(this.#prefix);
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.segmentSizeLimits.maxSegments) {
      throw new InvalidSegmentIndexError(`segment index ${index} is outside S3's 10,000 parts`);
    }
  }
}

/** `body`, with every chunk also offered to the video's hash on its way through. */
async function* tapped(body: AsyncIterable<Uint8Array>, tap: SegmentTap): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    tap.push(chunk);
    yield chunk;
  }
}
