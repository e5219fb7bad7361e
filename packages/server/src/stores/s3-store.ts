import { createHash, createHmac } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type Part,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  type AssembledVideo,
  BodyIncompleteError,
  type ByteRange,
  DigestMismatchError,
  GiB,
  InvalidSegmentIndexError,
  InvalidSegmentSizeError,
  isCleancutError,
  MiB,
  type PresignedSegmentUpload,
  RangeNotSatisfiableError,
  type Remnant,
  type SegmentSizeLimits,
  type SegmentStore,
  SegmentsMissingError,
  type SegmentWrite,
  StorageUnavailableError,
  type StoredSegment,
  UnsupportedOperationError,
  type UploadHandle,
  VideoNotFoundError,
  type VideoStore,
} from "@cleancut/core";
import { type BackoffPolicy, backoffDelay, sleep } from "../cancel/backoff.js";
import { assertValidId } from "../ids.js";
import { hashingCounter } from "./hashing-counter.js";

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

interface WrittenPart {
  size: number;
  /** The part's ETag as S3 returns it: the quoted MD5 of its bytes for a plain PUT. */
  etag: string;
  sha256: string;
}

/** Builds the SDK client the way the store needs it (checksums only when required: Swift's s3api and presigned URLs). */
export function createS3Client(options: Omit<S3StoreOptions, "bucket" | "client">): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? true,
    credentials: options.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Without a logger the SDK warns on the console each time a streamed part is cut off
    // ("non-retryable streaming request"): that is every part a cancel stops, which is the
    // point. Failures still surface as the errors the calls throw.
    logger: quietSdkLogger,
  });
}

const ignore = () => {};
const quietSdkLogger = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };

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
 *   `assemble` returned it (the completed upload's purge must not delete the video).
 * - Video keys: `assemble` returns the object key. Any key that is not under `keyPrefix`
 *   (such as a bare video id) names no object of this store: stat says absent, delete is a
 *   no-op. The object a racing complete made is covered by `discardUpload`/`listRemnants`.
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
  /** Parts this process wrote, by upload id then index: the source of their SHA-256. */
  readonly #written = new Map<string, Map<number, WrittenPart>>();
  /** Keys whose `assemble` returned here: the completed video, kept by `discardUpload`. */
  readonly #assembled = new Set<string>();

  constructor(options: S3StoreOptions) {
    this.#options = options;
    this.bucket = options.bucket;
    this.#prefix = options.keyPrefix ?? "videos/";
    this.#discard = options.discard ?? { rounds: 10, backoff: { baseMs: 50, maxMs: 2_000 } };
    this.client = options.client ?? createS3Client(options);
  }

  /** The object key of an upload: its multipart upload's key, later its video's. */
  objectKey(uploadId: string): string {
    assertValidId(uploadId);
    return `${this.#prefix}${uploadId}`;
  }

  async beginUpload(uploadId: string, contentType: string, signal: AbortSignal): Promise<string> {
    const key = this.objectKey(uploadId);
    const created = await this.#call(signal, () =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
        { abortSignal: signal },
      ),
    );
    if (created.UploadId === undefined) throw new StorageUnavailableError("S3 returned no UploadId");
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
    const counter = hashingCounter(write.size, `segment ${write.index}`);
    const md5 = createHash("md5");
    // Aborts the request when the body fails a check, or when the caller's signal aborts.
    const request = new AbortController();
    const onAbort = () => request.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    let bodyError: unknown;
    let sha256: string | undefined;
    const checked = async function* (): AsyncGenerator<Uint8Array> {
      try {
        let held: Uint8Array | undefined;
        for await (const chunk of counter.transform(body)) {
          if (held !== undefined) yield held;
          md5.update(chunk);
          held = chunk;
        }
        // The body ended: only now may its last bytes go, and only if it is exactly right.
        const digest = counter.finish();
        if (write.sha256 !== undefined && write.sha256 !== digest) {
          throw new DigestMismatchError(`segment ${write.index} does not match its Content-Digest`, {
            details: { expected: write.sha256, actual: digest },
          });
        }
        sha256 = digest;
        if (held !== undefined) yield held;
      } catch (error) {
        bodyError = error;
        request.abort(error);
        throw error;
      }
    };
    const stream = Readable.from(checked());
    // The failure is kept in `bodyError` and ends the request; the SDK pipes the body without
    // listening for its errors, so without this an errored body would be an uncaught error.
    stream.on("error", () => {});
    try {
      const response = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: upload.storageRef,
          PartNumber: write.index + 1,
          ContentLength: write.size,
          Body: stream,
        }),
        { abortSignal: request.signal },
      );
      if (sha256 === undefined) throw new BodyIncompleteError(`segment ${write.index} was not sent whole`);
      const expectedEtag = `"${md5.digest("hex")}"`;
      const etag = response.ETag ?? expectedEtag;
      if (/^"[0-9a-f]{32}"$/.test(etag) && etag !== expectedEtag) {
        // S3 stored other bytes than we sent. The part stays until it is overwritten or the
        // upload is aborted; it is not listed as a segment because its ETag matches no record.
        throw new StorageUnavailableError(`S3 stored segment ${write.index} with an unexpected ETag`, {
          details: { expected: expectedEtag, actual: etag },
        });
      }
      let parts = this.#written.get(upload.id);
      if (parts === undefined) {
        parts = new Map();
        this.#written.set(upload.id, parts);
      }
      parts.set(write.index, { size: write.size, etag, sha256 });
      return { index: write.index, size: write.size, sha256 };
    } catch (error) {
      if (bodyError !== undefined) throw normalizeBodyError(bodyError, signal, write, counter.received);
      if (signal.aborted) throw signal.reason ?? error;
      throw mapS3Error(error, `segment ${write.index}`);
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Direct uploads: a SigV4 query-presigned UploadPart URL for one part of this upload's
   * multipart upload. The signature covers the method (PUT), the key, the UploadId, the part
   * number and `content-length`, so the URL can store exactly `size` bytes as that part and
   * do nothing else: no read, no other part, no AbortMultipartUpload, no DeleteObject. Once
   * the multipart upload is aborted (cancel), the URL stores nothing any more.
   */
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
    const url = await getSignedUrl(
      this.client,
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: this.objectKey(upload.id),
        UploadId: upload.storageRef,
        PartNumber: index + 1,
        ContentLength: size,
      }),
      { expiresIn: expiresSeconds },
    );
    const signed = new URL(url).searchParams.get("X-Amz-SignedHeaders")?.split(";") ?? [];
    // Everything signed must be sent as signed; `host` comes from the URL itself.
    const headers: Record<string, string> = {};
    if (signed.includes("content-length")) headers["content-length"] = String(size);
    return { url, headers };
  }

  /** The size of part `index` as S3 lists it (ListParts), or undefined when S3 holds no such part. */
  async statSegment(upload: UploadHandle, index: number, signal: AbortSignal): Promise<number | undefined> {
    this.#checkIndex(index);
    const key = this.objectKey(upload.id);
    try {
      const page = await this.client.send(
        new ListPartsCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: upload.storageRef,
          MaxParts: 1,
          ...(index === 0 ? {} : { PartNumberMarker: String(index) }),
        }),
        { abortSignal: signal },
      );
      const part = page.Parts?.find((p) => p.PartNumber === index + 1);
      return part?.Size;
    } catch (error) {
      if (isUploadGone(error) && !signal.aborted) return undefined;
      throw this.#failure(error, signal, `listing part ${index + 1} of ${key}`);
    }
  }

  async listSegments(upload: UploadHandle, signal: AbortSignal): Promise<StoredSegment[]> {
    const parts = await this.#listParts(this.objectKey(upload.id), upload.storageRef, signal);
    if (parts === undefined || parts.length === 0) return [];
    const written = this.#written.get(upload.id);
    let recorded: Map<number, StoredSegment> | undefined;
    const segments: StoredSegment[] = [];
    for (const part of parts) {
      if (part.PartNumber === undefined || part.Size === undefined) continue;
      const index = part.PartNumber - 1;
      const mine = written?.get(index);
      let sha256: string | undefined;
      if (mine !== undefined && mine.size === part.Size && mine.etag === part.ETag) {
        sha256 = mine.sha256;
      } else if (this.#options.recordedSegments !== undefined) {
        recorded ??= new Map(
          [...(await this.#options.recordedSegments(upload.id, signal))].map((s) => [s.index, s]),
        );
        const record = recorded.get(index);
        if (record !== undefined && record.size === part.Size) sha256 = record.sha256;
      }
      // No trustworthy SHA-256: not a segment yet (listRemnants still shows the part).
      if (sha256 !== undefined) segments.push({ index, size: part.Size, sha256 });
    }
    return segments.sort((a, b) => a.index - b.index);
  }

  async deleteSegment(upload: UploadHandle, index: number, signal: AbortSignal): Promise<void> {
    this.#checkIndex(index);
    const parts = await this.#listParts(this.objectKey(upload.id), upload.storageRef, signal);
    if (parts === undefined || !parts.some((part) => part.PartNumber === index + 1)) return;
    throw new UnsupportedOperationError(
      `S3 cannot delete segment ${index} alone from a multipart upload in progress; cancel the upload (AbortMultipartUpload removes every part) or send the segment again to overwrite it`,
      { details: { index } },
    );
  }

  async listRemnants(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[]> {
    const key = this.objectKey(upload.id);
    const remnants: Remnant[] = [];
    // Once completed here, the upload's parts are the video's bytes (Swift keeps listing them
    // under the UploadId until the object goes; AWS answers NoSuchUpload): not remnants.
    const completed = this.#assembled.has(key);
    const uploadIds = new Set(completed ? [] : [upload.storageRef]);
    for (const other of await this.#listUploads(key, signal)) uploadIds.add(other);
    for (const uploadId of uploadIds) {
      const parts = await this.#listParts(key, uploadId, signal);
      if (parts === undefined) continue;
      remnants.push({ name: `${key} multipart upload ${uploadId}`, size: 0 });
      for (const part of parts) {
        remnants.push({
          ...(part.PartNumber === undefined ? {} : { index: part.PartNumber - 1 }),
          name: `${key} upload ${uploadId} part ${part.PartNumber}`,
          size: part.Size ?? 0,
        });
      }
    }
    if (!this.#assembled.has(key)) {
      const size = await this.#headObject(key, signal);
      if (size !== undefined) remnants.push({ name: key, size });
    }
    return remnants;
  }

  async discardUpload(upload: UploadHandle, signal: AbortSignal): Promise<void> {
    const key = this.objectKey(upload.id);
    // Completed by this process's `assemble`: the object is the video and its parts are the
    // video's bytes; only stray multipart uploads at the key are removed.
    const completed = this.#assembled.has(key);
    for (let round = 1; ; round++) {
      // Abort every multipart upload at the key: ours, and any other one that appeared.
      const uploadIds = new Set([
        ...(completed ? [] : [upload.storageRef]),
        ...(await this.#listUploads(key, signal)),
      ]);
      for (const uploadId of uploadIds) await this.#abortMultipart(key, uploadId, signal);
      // A CompleteMultipartUpload racing the cancel may have made the object.
      if (!completed) await this.#deleteObject(key, signal);
      // Verify: parts in flight may land after an abort and keep the upload alive.
      const left = !completed && (await this.#listParts(key, upload.storageRef, signal)) !== undefined;
      const others = await this.#listUploads(key, signal);
      if (!left && others.length === 0) {
        this.#written.delete(upload.id);
        return;
      }
      if (round >= this.#discard.rounds) {
        throw new StorageUnavailableError(
          `multipart upload of ${key} still present after ${round} abort rounds; the next cleanup attempt retries`,
          { details: { uploads: [...(left ? [upload.storageRef] : []), ...others] } },
        );
      }
      await sleep(backoffDelay(this.#discard.backoff, round), signal);
    }
  }

  async assemble(
    upload: UploadHandle,
    segments: readonly StoredSegment[],
    _videoId: string,
    signal: AbortSignal,
  ): Promise<AssembledVideo> {
    const key = this.objectKey(upload.id);
    const parts = await this.#listParts(key, upload.storageRef, signal);
    if (parts === undefined) {
      throw new SegmentsMissingError(`the multipart upload of ${key} is gone`);
    }
    const byNumber = new Map(parts.map((part) => [part.PartNumber, part]));
    const ordered = [...segments].sort((a, b) => a.index - b.index);
    const completed: Array<{ PartNumber: number; ETag: string }> = [];
    for (const segment of ordered) {
      const part = byNumber.get(segment.index + 1);
      if (part?.ETag === undefined || part.Size !== segment.size) {
        throw new SegmentsMissingError(`segment ${segment.index} is not stored as listed`, {
          details: { index: segment.index },
        });
      }
      completed.push({ PartNumber: segment.index + 1, ETag: part.ETag });
    }
    const total = ordered.reduce((sum, segment) => sum + segment.size, 0);
    // Parts not named here (indexes past the end) are dropped by S3 with the upload.
    await this.#call(signal, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: upload.storageRef,
          MultipartUpload: { Parts: completed },
        }),
        { abortSignal: signal },
      ),
    );
    // S3 knows no SHA-256 of the whole: read the joined object back once and hash it, which
    // also proves its length. (If this fails the object stays: a cancel's discardUpload
    // removes it; it is only kept once `assemble` has returned.)
    const sha256 = await this.#hashObject(key, total, signal);
    this.#assembled.add(key);
    this.#written.delete(upload.id);
    return { key, size: total, sha256 };
  }

  async #hashObject(key: string, size: number, signal: AbortSignal): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      try {
        const counter = hashingCounter(size, `video ${key}`);
        for await (const _chunk of counter.transform(await this.readVideo(key, undefined, signal))) {
          // hashed and counted by the transform
        }
        return counter.finish();
      } catch (error) {
        if (
          signal.aborted ||
          attempt >= 3 ||
          (isCleancutError(error) && error.code !== "storage_unavailable")
        )
          throw signal.aborted ? (signal.reason ?? error) : error;
        await sleep(backoffDelay({ baseMs: 100, maxMs: 1_000 }, attempt), signal);
      }
    }
  }

  async statVideo(key: string, signal: AbortSignal): Promise<number | undefined> {
    if (!this.#ownsKey(key)) return undefined;
    return this.#headObject(key, signal);
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
    await this.#deleteObject(key, signal);
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

  /** All parts of a multipart upload, or undefined when S3 says it does not exist (NoSuchUpload). */
  async #listParts(key: string, uploadId: string, signal: AbortSignal): Promise<Part[] | undefined> {
    const parts: Part[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            ...(marker === undefined ? {} : { PartNumberMarker: marker }),
          }),
          { abortSignal: signal },
        );
        parts.push(...(page.Parts ?? []));
        if (!page.IsTruncated || page.NextPartNumberMarker === undefined) return parts;
        marker = page.NextPartNumberMarker;
      }
    } catch (error) {
      if (isUploadGone(error) && !signal.aborted) return undefined;
      throw this.#failure(error, signal, `listing the parts of ${key}`);
    }
  }

  /** The upload ids of the multipart uploads in progress at exactly `key`. */
  async #listUploads(key: string, signal: AbortSignal): Promise<string[]> {
    const ids: string[] = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: key,
            ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
            ...(idMarker === undefined ? {} : { UploadIdMarker: idMarker }),
          }),
          { abortSignal: signal },
        );
        for (const upload of page.Uploads ?? []) {
          if (upload.Key === key && upload.UploadId !== undefined) ids.push(upload.UploadId);
        }
        if (!page.IsTruncated) return ids;
        keyMarker = page.NextKeyMarker;
        idMarker = page.NextUploadIdMarker;
        if (keyMarker === undefined && idMarker === undefined) return ids;
      }
    } catch (error) {
      throw this.#failure(error, signal, `listing the multipart uploads of ${key}`);
    }
  }

  async #abortMultipart(key: string, uploadId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (isUploadGone(error) && !signal.aborted) return;
      throw this.#failure(error, signal, `aborting the multipart upload of ${key}`);
    }
  }

  async #headObject(key: string, signal: AbortSignal): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      });
      return head.ContentLength ?? 0;
    } catch (error) {
      const name = errorName(error);
      if ((name === "NotFound" || name === "NoSuchKey") && !signal.aborted) return undefined;
      throw this.#failure(error, signal, `reading the size of ${key}`);
    }
  }

  async #deleteObject(key: string, signal: AbortSignal): Promise<void> {
    await this.#call(signal, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
    );
  }

  async #call<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw this.#failure(error, signal, "S3 request");
    }
  }

  #failure(error: unknown, signal: AbortSignal, what: string): unknown {
    if (signal.aborted) return signal.reason ?? error;
    return mapS3Error(error, what);
  }
}

/**
 * NoSuchUpload: the multipart upload is gone. Swift's s3api answers NoSuchKey instead when the
 * upload was completed into an object.
 */
function isUploadGone(error: unknown): boolean {
  const name = errorName(error);
  return name === "NoSuchUpload" || name === "NoSuchKey";
}

function errorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  if (typeof Code === "string") return Code;
  return typeof name === "string" ? name : undefined;
}

/** S3 failures become CleancutErrors; the SDK error stays as the cause. */
function mapS3Error(error: unknown, what: string): unknown {
  if (isCleancutError(error)) return error;
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  if (name === "EntityTooSmall") {
    return new InvalidSegmentSizeError(`${what}: a part other than the last is under S3's 5 MiB minimum`, {
      cause: error,
    });
  }
  if (name === "InvalidPart" || name === "InvalidPartOrder") {
    return new SegmentsMissingError(`${what}: ${message}`, { cause: error });
  }
  if (name === "NoSuchUpload") {
    return new StorageUnavailableError(`${what}: the multipart upload no longer exists (discarded)`, {
      cause: error,
      details: { s3Error: name },
    });
  }
  return new StorageUnavailableError(`${what} failed: ${name ?? "error"}: ${message}`, {
    cause: error,
    ...(name === undefined ? {} : { details: { s3Error: name } }),
  });
}

/** Like the disk store: a cancel is reported as its reason, a cut body as incomplete. */
function normalizeBodyError(
  error: unknown,
  signal: AbortSignal,
  write: SegmentWrite,
  received: number,
): unknown {
  if (signal.aborted) return signal.reason ?? error;
  if (isCleancutError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ABORT_ERR") {
    return new BodyIncompleteError(
      `segment ${write.index} was cut off after ${received} of ${write.size} bytes`,
      {
        cause: error,
        details: { expected: write.size, received },
      },
    );
  }
  return error;
}

/** RFC 3986 encoding as SigV4 wants it (S3: path segments encoded once, `/` kept). */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A SigV4 query-presigned GET URL for a path-style endpoint. */
export function presignGetUrl(input: {
  endpoint: string;
  region: string;
  credentials: S3StoreCredentials;
  bucket: string;
  key: string;
  expiresSeconds: number;
  now: Date;
}): string {
  const base = new URL(input.endpoint);
  const basePath = base.pathname.replace(/\/+$/, "");
  const path = `${basePath}/${[input.bucket, ...input.key.split("/")].map(encodeRfc3986).join("/")}`;
  const amzDate = input.now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const query: Array<[string, string]> = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${input.credentials.accessKeyId}/${scope}`],
    ["X-Amz-Date", amzDate],
    ["X-Amz-Expires", String(input.expiresSeconds)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  if (input.credentials.sessionToken !== undefined) {
    query.push(["X-Amz-Security-Token", input.credentials.sessionToken]);
  }
  const canonicalQuery = query
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalRequest = [
    "GET",
    path,
    canonicalQuery,
    `host:${base.host}`,
    "",
    "host",
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonicalRequest).digest("hex"),
  ].join("\n");
  let signingKey: Buffer = createHmac("sha256", `AWS4${input.credentials.secretAccessKey}`)
    .update(day)
    .digest();
  for (const part of [input.region, "s3", "aws4_request"]) {
    signingKey = createHmac("sha256", signingKey).update(part).digest();
  }
  const signature = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  return `${base.origin}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}
