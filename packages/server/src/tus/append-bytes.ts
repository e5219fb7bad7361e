import { createHash } from "node:crypto";
import {
  ChecksumMismatchError,
  InvalidRequestError,
  OffsetMismatchError,
  type SegmentStore,
  type StoredSegment,
  segmentByteSize,
  segmentLayout,
  type UploadRecord,
  type UploadRepository,
} from "@cleancut/core";
import type { TusPosition } from "./offset.js";
import type { UploadChecksum } from "./protocol.js";

export interface AppendDeps {
  repository: UploadRepository;
  store: SegmentStore;
  /** Told of every segment once stored and recorded (metrics). */
  onSegmentStored?(segment: StoredSegment): void;
}

/**
 * Appends a body that starts at `from` to a tus upload, cut at the upload's segment
 * boundaries: each complete segment is written and recorded as soon as its last byte arrived;
 * bytes past the last complete segment are kept as the upload's partial segment when the body
 * ended normally. A body cut off midway (the client went away, a cancel aborted `signal`)
 * keeps its complete segments and drops the incomplete one: tus lets a server keep "as much as
 * possible", and HEAD then says where to resume. With a checksum, the body's segments are
 * forgotten again (and deleted where the store can) when the digest does not match.
 *
 * Returns the new offset.
 */
export async function appendBytes(
  deps: AppendDeps,
  record: UploadRecord,
  from: TusPosition,
  body: AsyncIterable<Uint8Array>,
  checksum: UploadChecksum | undefined,
  signal: AbortSignal,
): Promise<number> {
  const { repository, store } = deps;
  const handle = { id: record.id, storageRef: record.storageRef };
  const layout = segmentLayout(record.size, record.segmentSize);
  let index = from.nextIndex;
  let pending: Uint8Array[] = [];
  let filled = 0;
  if (from.partialBytes > 0) {
    const saved = await store.loadPartialSegment(handle, signal);
    if (saved === undefined || saved.index !== index || saved.bytes.length !== from.partialBytes) {
      // The record and storage disagree (a crash between the two writes): drop the partial
      // segment from the offset; HEAD then points the client at the last complete segment.
      await repository.patchUpload(record.id, { tus: withoutPartial(record) }, signal);
      throw new OffsetMismatchError(
        "this upload's partial segment is gone: ask HEAD for the offset to resume from",
        { details: { offset: from.offset - from.partialBytes } },
      );
    }
    pending.push(saved.bytes);
    filled = saved.bytes.length;
  }

  const hash = checksum === undefined ? undefined : createHash(checksum.algorithm);
  const remaining = record.size - from.offset;
  const written: number[] = [];
  let received = 0;
  try {
    for await (const chunk of body) {
      signal.throwIfAborted();
      hash?.update(chunk);
      received += chunk.length;
      if (received > remaining) {
        throw new InvalidRequestError(`the body runs past Upload-Length (${record.size} bytes)`, {
          details: { uploadLength: record.size, offset: from.offset },
        });
      }
      let rest = chunk;
      while (rest.length > 0) {
        const size = segmentByteSize(layout, index);
        const take = rest.subarray(0, size - filled);
        pending.push(take);
        filled += take.length;
        rest = rest.subarray(take.length);
        if (filled < size) continue;
        const segment = await store.writeSegment(handle, { index, size }, chunksOf(pending), signal);
        await repository.recordSegment(record.id, segment, signal);
        deps.onSegmentStored?.(segment);
        written.push(index);
        index++;
        pending = [];
        filled = 0;
      }
    }
    signal.throwIfAborted();
    if (hash !== undefined && checksum !== undefined && hash.digest("base64") !== checksum.base64) {
      throw new ChecksumMismatchError(`the body does not match its Upload-Checksum (${checksum.algorithm})`);
    }
  } catch (error) {
    if (error instanceof ChecksumMismatchError || error instanceof InvalidRequestError) {
      await forget(deps, handle, written);
    }
    throw error;
  }

  if (received === 0) return from.offset;
  if (filled > 0) {
    await store.savePartialSegment(handle, index, concatenated(pending, filled), signal);
    await repository.patchUpload(
      record.id,
      { tus: { ...record.tus, partial: { index, bytes: filled } } },
      signal,
    );
  } else if (record.tus?.partial !== undefined) {
    // Its bytes are in a stored segment now; the record first, so the offset never counts them twice.
    await repository.patchUpload(record.id, { tus: withoutPartial(record) }, signal);
    await store.deletePartialSegment(handle, signal);
  }
  return from.offset + received;
}

/** Forgets (and where possible deletes) the segments a refused body wrote; the offset goes back. */
async function forget(
  deps: AppendDeps,
  handle: { id: string; storageRef: string },
  indexes: readonly number[],
): Promise<void> {
  const never = new AbortController().signal;
  for (const index of indexes) {
    await deps.repository.forgetSegment(handle.id, index, never);
    // S3 cannot delete one part: the client's next PATCH overwrites it, a cancel removes it.
    if (deps.store.deletesSegmentsIndividually) await deps.store.deleteSegment(handle, index, never);
  }
}

function withoutPartial(record: UploadRecord): UploadRecord["tus"] {
  const { partial: _dropped, ...rest } = record.tus ?? {};
  return rest;
}

async function* chunksOf(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

function concatenated(chunks: readonly Uint8Array[], total: number): Uint8Array {
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, total);
}
