import type { UploadRecord, UploadRepository } from "@cleancut/core";

/** Where a tus upload stands: bytes held, the next segment to write, and the partial segment's bytes that count. */
export interface TusPosition {
  offset: number;
  nextIndex: number;
  /** Bytes of segment `nextIndex` kept as a partial segment (0 when none counts). */
  partialBytes: number;
}

/**
 * The offset is the contiguous run of recorded segments from index 0, plus the partial
 * segment when it belongs to the next index. A finished (or finishing) upload holds all of
 * its bytes even though its segments are no longer recorded.
 */
export async function tusPosition(
  repository: UploadRepository,
  record: UploadRecord,
  signal: AbortSignal,
): Promise<TusPosition> {
  if (record.state === "completed" || record.state === "completing") {
    return { offset: record.size, nextIndex: record.segmentCount, partialBytes: 0 };
  }
  const segments = await repository.listRecordedSegments(record.id, signal);
  let nextIndex = 0;
  let offset = 0;
  for (const segment of segments) {
    if (segment.index !== nextIndex) break;
    offset += segment.size;
    nextIndex++;
  }
  const partial = record.tus?.partial;
  const partialBytes = partial !== undefined && partial.index === nextIndex ? partial.bytes : 0;
  return { offset: offset + partialBytes, nextIndex, partialBytes };
}
