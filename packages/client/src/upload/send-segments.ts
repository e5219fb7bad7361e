import {
  type SegmentLayout,
  type StoredSegment,
  segmentByteSize,
  segmentOffset,
  type UploadMode,
} from "@cleancut/core";
import { contentDigest, type Sha256Function } from "../digest.js";
import type { ApiClient, UploadRef } from "../http/api-client.js";
import { type RetryPolicy, withRetry } from "../retry.js";
import type { UploadSource } from "../source/upload-source.js";
import type { SegmentProgress } from "./events.js";
import { runPool } from "./pool.js";

export interface SendContext {
  api: ApiClient;
  source: UploadSource;
  ref: UploadRef;
  layout: SegmentLayout;
  concurrency: number;
  retry: RetryPolicy;
  sha256: Sha256Function;
  /** `direct`: presign, PUT to storage, confirm; `proxy`: PUT to the server. */
  mode: UploadMode;
  onSegment(segment: StoredSegment): void;
  /** Where a segment stands while it is sent (`sending` with its bytes, `waiting` when given up). */
  onSegmentProgress(progress: SegmentProgress): void;
}

/** The segments the server already holds with the right size: these need not be sent again. */
export function heldIndexes(layout: SegmentLayout, stored: readonly StoredSegment[]): Set<number> {
  const held = new Set<number>();
  for (const segment of stored) {
    if (segment.index < 0 || segment.index >= layout.segmentCount) continue;
    if (segment.size === segmentByteSize(layout, segment.index)) held.add(segment.index);
  }
  return held;
}

/**
 * Sends every segment not in `held`, `concurrency` at a time. Each segment is read just before
 * it is sent and dropped after, so memory stays within concurrency × segmentSize.
 */
export async function sendSegments(ctx: SendContext, held: Set<number>, signal: AbortSignal): Promise<void> {
  const missing: number[] = [];
  for (let index = 0; index < ctx.layout.segmentCount; index++) if (!held.has(index)) missing.push(index);
  // One buffer per lane, reused segment after segment: a lane reads its next segment only
  // after the previous PUT was answered, so the bytes are no longer in use.
  const buffers: Array<Uint8Array | undefined> = [];
  await runPool(missing, ctx.concurrency, signal, async (index, laneSignal, lane) => {
    const start = segmentOffset(ctx.layout, index);
    buffers[lane] ??= new Uint8Array(ctx.layout.segmentSize);
    const bytes = await ctx.source.read(
      start,
      start + segmentByteSize(ctx.layout, index),
      laneSignal,
      buffers[lane],
    );
    const digest = await contentDigest(bytes, ctx.sha256);
    const size = bytes.length;
    const onProgress = (sent: number) => ctx.onSegmentProgress({ index, size, sent, state: "sending" });
    // Idempotent on the server (and in S3: a part number is overwritten), so a retry after a
    // lost answer cannot store a segment twice.
    let stored: StoredSegment;
    try {
      stored = await withRetry(ctx.retry, laneSignal, () => {
        onProgress(0);
        return ctx.mode === "direct"
          ? sendDirect(ctx, index, bytes, digest.hex, laneSignal, onProgress)
          : ctx.api.putSegment(ctx.ref, index, bytes, digest.header, laneSignal, onProgress);
      });
    } catch (error) {
      ctx.onSegmentProgress({ index, size, sent: 0, state: "waiting" });
      throw error;
    }
    ctx.onSegment(stored);
  });
}

/**
 * One try of a direct segment: a fresh presigned URL (so a retry never uses an expired one),
 * the bytes straight to storage, then the confirm that makes the server record it.
 */
async function sendDirect(
  ctx: SendContext,
  index: number,
  bytes: Uint8Array,
  sha256: string,
  signal: AbortSignal,
  onProgress: (sent: number) => void,
): Promise<StoredSegment> {
  const signed = await ctx.api.presignSegment(ctx.ref, index, signal);
  await ctx.api.putPresigned(signed, bytes, signal, onProgress);
  return ctx.api.confirmSegment(ctx.ref, index, { sha256, size: bytes.length }, signal);
}
