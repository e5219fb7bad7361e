import type { UploadRecord } from "@cleancut/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../http/context.js";
import { requestSignal } from "../http/request-signal.js";
import { neverAborts } from "../never-aborts.js";
import { assertTusVersion } from "./protocol.js";
import { loadTusUpload } from "./tus-upload.js";

/**
 * `DELETE /files/<ref>` (termination) is cleancut's cancel: the tombstone first, every PATCH of
 * the upload cut off and waited for, every stored byte deleted, storage listed again. 204 only
 * once that listing was empty; 202 with the cancel report when something is left, which the
 * server keeps retrying. Terminating a final upload terminates its parts too; terminating a
 * finished upload deletes its video. Repeating it answers the same (tus-js-client treats a 404
 * on a retried DELETE as a failure).
 */
export async function handleTerminate(
  ctx: AppContext,
  request: FastifyRequest<{ Params: { ref: string } }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  assertTusVersion(request.headers);
  const record = await loadTusUpload(ctx, request.params.ref, requestSignal(reply));
  const concat = record.tus?.concat;
  const parts = concat?.kind === "final" ? concat.parts : [];
  const [report] = await Promise.all([
    terminate(ctx, record),
    ...parts.map((id) => ctx.cancels.cancel(id, "client").catch(() => undefined)),
  ]);
  if (report === undefined || report.verified) return reply.code(204).send();
  return reply.code(202).send(report);
}

async function terminate(ctx: AppContext, record: UploadRecord) {
  if (record.state !== "completed") return ctx.cancels.cancel(record.id, "client");
  // Not tied to the request: a half-done delete would leave the video without its record.
  if (record.videoId !== undefined) {
    const video = await ctx.repository.getVideo(record.videoId, neverAborts);
    if (video !== undefined) {
      await ctx.videos.deleteVideo(video.storageKey, neverAborts);
      await ctx.repository.deleteVideo(video.videoId, neverAborts);
    }
  }
  return undefined;
}
