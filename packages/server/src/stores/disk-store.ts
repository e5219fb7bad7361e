import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, statSync } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import {
  type AssembledVideo,
  BodyIncompleteError,
  type ByteRange,
  DigestMismatchError,
  InvalidSegmentIndexError,
  KiB,
  MiB,
  type PartialSegment,
  type Remnant,
  type SegmentSizeLimits,
  type SegmentStore,
  SegmentsMissingError,
  type SegmentWrite,
  StorageFullError,
  StorageUnavailableError,
  type StoredEntry,
  type StoredSegment,
  type UploadHandle,
  type VideoStore,
} from "@cleancut/core";
import { assertValidId, isValidId } from "../ids.js";
import {
  isSegmentFileForIndex,
  parsePartialSegmentHeader,
  parseSegmentFileName,
  partialSegmentFileName,
  partialSegmentHeader,
  segmentFileName,
  tempFileName,
} from "./disk-names.js";
import {
  linkVideoParts,
  openDiskVideo,
  probeLocationOf,
  readVideoParts,
  syncFile,
  type VideoPart,
  writeVideoManifest,
} from "./disk-video.js";
import { hashingCounter } from "./hashing-counter.js";
import { OrderedSegmentHasher } from "./ordered-segment-hasher.js";
import { readFilesInOrder } from "./read-files-in-order.js";

/**
 * Up to this much of a request is buffered while a disk write is pending, so the file stream
 * can hand the kernel one writev of many socket chunks instead of one write per 64 KiB chunk.
 */
const writeBufferBytes = 1024 * 1024;

const notFound = (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT";

/**
 * Segments as files under `<dataDir>/uploads/<id>/`, videos under `<dataDir>/videos/`.
 * Bytes stream to a dot-named temp file, are synced, and are renamed into place only when
 * complete and checked, so a listing never shows a partial segment and a stored segment
 * survives a power cut; the temp file is removed before any failed or aborted write settles.
 * A video is a folder of hard links to its segment files (see `disk-video.ts`).
 */
export class DiskStore implements SegmentStore, VideoStore {
  readonly kind = "disk";
  readonly deletesSegmentsIndividually = true;
  readonly segmentSizeLimits: SegmentSizeLimits = { min: 64 * KiB, max: 64 * MiB, maxSegments: 100_000 };
  readonly #uploadsDir: string;
  readonly #videosDir: string;
  /** The videos' SHA-256, hashed in order while segments arrive (see `OrderedSegmentHasher`). */
  readonly #videoHashes: OrderedSegmentHasher;

  constructor(readonly dataDir: string) {
    this.#uploadsDir = join(dataDir, "uploads");
    this.#videosDir = join(dataDir, "videos");
    this.#videoHashes = new OrderedSegmentHasher((uploadId, index, sha256, update, signal) =>
      readFilesInOrder([join(this.uploadDir(uploadId), segmentFileName(index, sha256))], update, signal),
    );
  }

  async init(): Promise<void> {
    await mkdir(this.#uploadsDir, { recursive: true });
    await mkdir(this.#videosDir, { recursive: true });
  }

  uploadDir(uploadId: string): string {
    assertValidId(uploadId);
    return join(this.#uploadsDir, uploadId);
  }

  async beginUpload(uploadId: string, _contentType: string, signal: AbortSignal): Promise<string> {
    signal.throwIfAborted();
    await mkdir(this.uploadDir(uploadId), { recursive: true });
    return uploadId;
  }

  async writeSegment(
    upload: UploadHandle,
    write: SegmentWrite,
    body: AsyncIterable<Uint8Array>,
    signal: AbortSignal,
  ): Promise<StoredSegment> {
    const dir = this.uploadDir(upload.id);
    const tempPath = join(dir, tempFileName(`seg-${write.index}`, randomBytes(6).toString("hex")));
    const counter = hashingCounter(write.size, `segment ${write.index}`);
    try {
      // 'wx' and no mkdir: if the folder is gone the upload was discarded, and must stay so.
      await pipeline(
        body,
        counter.transform,
        createWriteStream(tempPath, { flags: "wx", highWaterMark: writeBufferBytes }),
        { signal },
      );
      const sha256 = counter.finish();
      if (write.sha256 !== undefined && write.sha256 !== sha256) {
        throw new DigestMismatchError(`segment ${write.index} does not match its Content-Digest`, {
          details: { expected: write.sha256, actual: sha256 },
        });
      }
      // Synced only once whole and checked (a cut-off write is not worth a flush), and before
      // the rename: the name never points at bytes still only in memory.
      await syncFile(tempPath);
      signal.throwIfAborted();
      const name = segmentFileName(write.index, sha256);
      await rename(tempPath, join(dir, name));
      await this.#removeOtherVersions(dir, write.index, name);
      this.#videoHashes.stored(upload.id, write.index, sha256);
      return { index: write.index, size: write.size, sha256 };
    } catch (error) {
      await rm(tempPath, { force: true });
      if (notFound(error)) {
        throw new StorageUnavailableError(`upload ${upload.id} has no storage folder`, { cause: error });
      }
      throw normalizeStreamError(error, signal, write.index, counter.received, write.size);
    }
  }

  /** A re-sent segment with other bytes replaces the old one; exactly one version stays. */
  async #removeOtherVersions(dir: string, index: number, keep: string): Promise<void> {
    for (const name of await readdir(dir)) {
      if (name !== keep && isSegmentFileForIndex(name, index)) await rm(join(dir, name), { force: true });
    }
  }

  /**
   * Header and bytes go to a dot-named temp file, are synced, and are renamed over the fixed
   * `partialSegmentFileName`: the old partial segment (any index) is replaced in one step.
   */
  async savePartialSegment(
    upload: UploadHandle,
    index: number,
    bytes: Uint8Array,
    signal: AbortSignal,
  ): Promise<void> {
    signal.throwIfAborted();
    this.#checkIndex(index);
    const dir = this.uploadDir(upload.id);
    const tempPath = join(dir, tempFileName("partial", randomBytes(6).toString("hex")));
    try {
      // 'wx' and no mkdir: if the folder is gone the upload was discarded, and must stay so.
      const file = await open(tempPath, "wx");
      try {
        // writeFile, not write: it loops until every byte is written.
        await file.writeFile(partialSegmentHeader(index), { signal });
        await file.writeFile(bytes, { signal });
        // Synced before the rename, or a crash could leave the new name on empty bytes.
        await file.sync();
      } finally {
        await file.close();
      }
      signal.throwIfAborted();
      await rename(tempPath, join(dir, partialSegmentFileName));
    } catch (error) {
      await rm(tempPath, { force: true });
      if (signal.aborted) throw signal.reason ?? error;
      if (notFound(error)) {
        throw new StorageUnavailableError(`upload ${upload.id} has no storage folder`, { cause: error });
      }
      throw isDiskFull(error) ? storageFull(error, `partial segment ${index}`) : error;
    }
  }

  async loadPartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<PartialSegment | undefined> {
    signal.throwIfAborted();
    const path = join(this.uploadDir(upload.id), partialSegmentFileName);
    const file = await readFile(path, { signal }).catch((error: unknown) => {
      if (notFound(error) && !signal.aborted) return undefined;
      throw signal.aborted ? (signal.reason ?? error) : error;
    });
    if (file === undefined) return undefined;
    const header = parsePartialSegmentHeader(file);
    if (header === undefined) {
      throw new StorageUnavailableError(`the partial segment of upload ${upload.id} has no readable header`);
    }
    return { index: header.index, bytes: file.subarray(header.offset) };
  }

  async deletePartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await rm(join(this.uploadDir(upload.id), partialSegmentFileName), { force: true });
  }

  async listSegments(upload: UploadHandle, signal: AbortSignal): Promise<StoredSegment[]> {
    signal.throwIfAborted();
    const dir = this.uploadDir(upload.id);
    const names = await readdir(dir).catch((error: unknown) => {
      if (notFound(error)) return [] as string[];
      throw error;
    });
    const segments: StoredSegment[] = [];
    for (const name of names) {
      const parsed = parseSegmentFileName(name);
      if (parsed === undefined) continue;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info !== undefined) segments.push({ index: parsed.index, size: info.size, sha256: parsed.sha256 });
    }
    return segments.sort((a, b) => a.index - b.index);
  }

  async deleteSegment(upload: UploadHandle, index: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const dir = this.uploadDir(upload.id);
    const names = await readdir(dir).catch((error: unknown) => {
      if (notFound(error)) return [] as string[];
      throw error;
    });
    this.#videoHashes.removed(upload.id, index);
    for (const name of names) {
      if (isSegmentFileForIndex(name, index)) await rm(join(dir, name), { force: true });
    }
  }

  async listRemnants(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[]> {
    signal.throwIfAborted();
    const dir = this.uploadDir(upload.id);
    const names = await readdir(dir).catch((error: unknown) => {
      if (notFound(error)) return undefined;
      throw error;
    });
    if (names === undefined) return [];
    const remnants: Remnant[] = [];
    for (const name of names) {
      const info = await stat(join(dir, name)).catch(() => undefined);
      const index = parseSegmentFileName(name)?.index;
      remnants.push({ ...(index === undefined ? {} : { index }), name, size: info?.size ?? 0 });
    }
    // An empty folder holds no bytes but is still a trace of the upload.
    if (remnants.length === 0) remnants.push({ name: ".", size: 0 });
    return remnants;
  }

  async discardUpload(upload: UploadHandle, signal: AbortSignal): Promise<undefined> {
    signal.throwIfAborted();
    await this.#videoHashes.forget(upload.id);
    const dir = this.uploadDir(upload.id);
    const names = await readdir(dir).catch((error: unknown) => {
      if (notFound(error)) return undefined;
      throw error;
    });
    if (names === undefined) return undefined;
    for (const name of names) {
      if (parseSegmentFileName(name) === undefined)
        await rm(join(dir, name), { force: true, recursive: true });
    }
    // Segments are deleted one by one by their owner (each delete is checked); the folder
    // goes only once it is empty, so a failed segment delete is never hidden by an rm -r.
    await rmdir(dir).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTEMPTY") throw error;
    });
    return undefined;
  }

  /**
   * A readdir of `uploads/` and `videos/`: per upload folder one `segments` entry (the folder
   * and its segment files) and, when there are any, one `temp` entry (dot-named temp files and
   * the partial segment); per `<videoId>.video` folder (or file, joined before videos were
   * folders) one `video` entry. Other names are not this
   * store's and are skipped.
   */
  async listStoredEntries(signal: AbortSignal): Promise<StoredEntry[]> {
    signal.throwIfAborted();
    const entries: StoredEntry[] = [];
    for (const id of await readdirOrEmpty(this.#uploadsDir)) {
      if (!isValidId(id)) continue;
      const dir = join(this.#uploadsDir, id);
      const folder = await stat(dir).catch(() => undefined);
      if (folder === undefined || !folder.isDirectory()) continue;
      const segments = { bytes: 0, modifiedAt: folder.mtimeMs };
      const temp = { bytes: 0, modifiedAt: 0, count: 0 };
      for (const name of await readdirOrEmpty(dir)) {
        signal.throwIfAborted();
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info === undefined) continue;
        if (parseSegmentFileName(name) !== undefined) {
          segments.bytes += info.size;
          segments.modifiedAt = Math.max(segments.modifiedAt, info.mtimeMs);
        } else {
          temp.bytes += info.size;
          temp.modifiedAt = Math.max(temp.modifiedAt, info.mtimeMs);
          temp.count += 1;
        }
      }
      const base = { ownerId: id, owner: "upload", storageRef: id } as const;
      entries.push({ ...base, kind: "segments", name: `uploads/${id}/`, ...segments });
      if (temp.count > 0) {
        entries.push({
          ...base,
          kind: "temp",
          name: `uploads/${id}/ (${temp.count} temp)`,
          bytes: temp.bytes,
          modifiedAt: temp.modifiedAt,
        });
      }
    }
    for (const name of await readdirOrEmpty(this.#videosDir)) {
      const videoId = name.endsWith(".video") ? name.slice(0, -".video".length) : "";
      if (!isValidId(videoId)) continue;
      const video = await openDiskVideo(join(this.#videosDir, name)).catch(() => undefined);
      if (video === undefined) continue;
      entries.push({
        ownerId: videoId,
        owner: "video",
        kind: "video",
        bytes: video.size,
        name: `videos/${name}`,
        modifiedAt: video.modifiedAt,
        videoKey: videoId,
      });
    }
    return entries;
  }

  /**
   * Links each segment file into a new video folder (no byte is copied), then finishes the
   * video's hash over the linked files the ordered hash has not covered yet: every part is
   * either hashed here or a segment file with the same SHA-256 hashed earlier, so the digest
   * is of exactly what the video holds. The folder is built
   * inside the upload's folder and renamed into `videos/` only when complete, so a cancel or a
   * crash mid-way leaves it where the upload's cleanup finds it, and the segments stay for a
   * retried complete.
   */
  async assemble(
    upload: UploadHandle,
    segments: readonly StoredSegment[],
    videoId: string,
    signal: AbortSignal,
  ): Promise<AssembledVideo> {
    assertValidId(videoId, "video id");
    const dir = this.uploadDir(upload.id);
    const tempDir = join(dir, tempFileName(`assemble-${videoId}`, randomBytes(6).toString("hex")));
    const finalDir = this.#videoPath(videoId);
    const total = segments.reduce((sum, segment) => sum + segment.size, 0);
    try {
      // No recursive mkdir: if the upload's folder is gone it was discarded, and must stay so.
      await mkdir(tempDir);
      const sources = segments.map((segment) => ({
        path: join(dir, segmentFileName(segment.index, segment.sha256)),
        size: segment.size,
      }));
      // Link first, then hash the links: a segment replaced meanwhile cannot slip in unhashed.
      const parts = await linkVideoParts(tempDir, sources, signal);
      const sha256 = await this.#hashVideo(upload.id, segments, tempDir, parts, total, signal);
      await writeVideoManifest(tempDir, finalDir, parts, sha256);
      signal.throwIfAborted();
      await rename(tempDir, finalDir);
      await syncFile(this.#videosDir);
      return { key: videoId, size: total, sha256 };
    } catch (error) {
      await rm(tempDir, { force: true, recursive: true });
      if (notFound(error) && !signal.aborted) {
        throw new SegmentsMissingError(`a segment of upload ${upload.id} is not stored as listed`, {
          cause: error,
        });
      }
      throw isDiskFull(error) ? storageFull(error, `video ${videoId}`) : error;
    }
  }

  /**
   * Continues the hash the upload's segments got while they arrived, over the linked parts
   * it does not cover yet (all of them after a restart), and checks the byte count.
   */
  async #hashVideo(
    uploadId: string,
    segments: readonly StoredSegment[],
    tempDir: string,
    parts: readonly VideoPart[],
    total: number,
    signal: AbortSignal,
  ): Promise<string> {
    const prefix = await this.#videoHashes.prefix(uploadId, segments);
    const hash = prefix?.hash ?? createHash("sha256");
    let bytes = prefix?.bytes ?? 0;
    const rest = parts.slice(prefix?.count ?? 0).map((part) => join(tempDir, part.name));
    await readFilesInOrder(
      rest,
      (chunk) => {
        bytes += chunk.byteLength;
        hash.update(chunk);
      },
      signal,
    );
    if (bytes !== total) {
      throw new SegmentsMissingError(`the segments of upload ${uploadId} hold ${bytes} bytes, not ${total}`);
    }
    return hash.digest("hex");
  }

  #checkIndex(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.segmentSizeLimits.maxSegments) {
      throw new InvalidSegmentIndexError(
        `segment index ${index} is outside 0..${this.segmentSizeLimits.maxSegments - 1}`,
      );
    }
  }

  #videoPath(key: string): string {
    assertValidId(key, "video id");
    return join(this.#videosDir, `${key}.video`);
  }

  async statVideo(key: string, signal: AbortSignal): Promise<number | undefined> {
    signal.throwIfAborted();
    return (await openDiskVideo(this.#videoPath(key)))?.size;
  }

  async readVideo(
    key: string,
    range: ByteRange | undefined,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array>> {
    const video = await openDiskVideo(this.#videoPath(key));
    if (video?.layout === "parts" && video.manifest !== undefined) {
      return readVideoParts(video.dir, video.manifest, range, signal);
    }
    // A single file (joined before videos were folders), or a missing one: open fails as it should.
    const handle = await open(this.#videoPath(key), "r");
    return handle.createReadStream({
      ...(range === undefined ? {} : { start: range.start, end: range.end }),
      signal,
    });
  }

  /** Called right after `assemble`, on the video it made: a folder, read through ffprobe's `concatf:`. */
  probeLocation(key: string): string {
    const path = this.#videoPath(key);
    return probeLocationOf(path, statSync(path, { throwIfNoEntry: false })?.isDirectory() === true);
  }

  async deleteVideo(key: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // A folder cut off mid-delete still stats as a video (what is left of it): the caller's
    // statVideo check sees it and the delete is retried.
    await rm(this.#videoPath(key), { force: true, recursive: true });
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  return readdir(dir).catch((error: unknown) => {
    if (notFound(error)) return [] as string[];
    throw error;
  });
}

/**
 * A stream that died because the request was aborted or the sender went away is reported as
 * what it is for the upload: the signal's reason (a cancel), or a body cut off midway.
 */
function normalizeStreamError(
  error: unknown,
  signal: AbortSignal,
  index: number,
  received: number,
  expected: number,
): unknown {
  if (signal.aborted) return signal.reason ?? error;
  const code = (error as NodeJS.ErrnoException).code;
  if (isDiskFull(error)) return storageFull(error, `segment ${index}`);
  if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ABORT_ERR") {
    return new BodyIncompleteError(`segment ${index} was cut off after ${received} of ${expected} bytes`, {
      cause: error,
      details: { expected, received },
    });
  }
  return error;
}

/** No room on the data folder's disk: a stable `storage_full` (507), with the system error as its cause. */
function storageFull(error: unknown, what: string): StorageFullError {
  return new StorageFullError(`the data folder's disk is full: ${what} does not fit`, { cause: error });
}

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOSPC" || code === "EDQUOT";
}
