import { ConcatenationInvalidError, UploadNotFoundError, type UploadRecord } from "@cleancut/core";
import type { AppContext } from "../http/context.js";
import { newId } from "../ids.js";
import { neverAborts } from "../never-aborts.js";
import { appendBytes } from "./append-bytes.js";
import { tusPosition } from "./offset.js";
import { appendDeps, loadTusUpload } from "./tus-upload.js";

/**
 * The partial uploads an `Upload-Concat: final;…` names, in order. Each must be a partial tus
 * upload of this server whose URL (and so token) the caller holds, with all its bytes.
 */
export async function finishedPartials(
  ctx: AppContext,
  urls: readonly string[],
  signal: AbortSignal,
): Promise<UploadRecord[]> {
  const partials: UploadRecord[] = [];
  for (const url of urls) {
    const record = await loadTusUpload(ctx, url, signal).catch((error: unknown) => {
      if (error instanceof UploadNotFoundError) {
        throw new ConcatenationInvalidError(`${url} is not an upload of this server`, { cause: error });
      }
      throw error;
    });
    if (record.tus?.concat?.kind !== "partial") {
      throw new ConcatenationInvalidError(`${url} was not created with Upload-Concat: partial`);
    }
    if (record.state !== "uploading") {
      throw new ConcatenationInvalidError(`partial upload ${record.id} is ${record.state}`);
    }
    const position = await tusPosition(ctx.repository, record, signal);
    if (position.offset !== record.size) {
      throw new ConcatenationInvalidError(
        `partial upload ${record.id} holds ${position.offset} of its ${record.size} bytes`,
        { details: { id: record.id, offset: position.offset, length: record.size } },
      );
    }
    if (partials.some((other) => other.id === record.id)) {
      throw new ConcatenationInvalidError(`partial upload ${record.id} is named twice`);
    }
    partials.push(record);
  }
  return partials;
}

/**
 * Fills the final upload with the partials' bytes, in order: each partial is joined by its
 * store (S3 joins server-side), read back and cut into the final's segments, then the joined
 * copy is deleted. The partials stay `completing` (no PATCH gets in) until the caller has the
 * final's video and cancels them (reason `concatenated`), which removes their storage,
 * verified. A cancel of the final or of a partial meanwhile aborts this through the in-flight
 * registry.
 */
export async function concatenateInto(
  ctx: AppContext,
  final: UploadRecord,
  partials: readonly UploadRecord[],
  signal: AbortSignal,
): Promise<void> {
  for (const partial of partials) {
    const joinedId = newId();
    const claimed = await ctx.repository.transition(
      partial.id,
      ["uploading"],
      "completing",
      { videoId: joinedId },
      signal,
    );
    if (claimed === undefined) {
      throw new ConcatenationInvalidError(
        `partial upload ${partial.id} changed state during the concatenation`,
      );
    }
    await ctx.inflight.run(partial.id, signal, async (partialSignal) => {
      const handle = { id: partial.id, storageRef: partial.storageRef };
      const segments = await ctx.store.listSegments(handle, partialSignal);
      const joined = await ctx.store.assemble(handle, segments, joinedId, partialSignal);
      try {
        const body = await ctx.videos.readVideo(joined.key, undefined, partialSignal);
        await ctx.inflight.run(final.id, partialSignal, async (finalSignal) => {
          // Re-read: the previous partial may have left a partial segment of the final.
          const current = (await ctx.repository.getUpload(final.id, finalSignal)) ?? final;
          const position = await tusPosition(ctx.repository, current, finalSignal);
          await appendBytes(appendDeps(ctx), current, position, body, undefined, finalSignal);
        });
      } finally {
        await ctx.videos.deleteVideo(joined.key, neverAborts);
      }
    });
  }
}
