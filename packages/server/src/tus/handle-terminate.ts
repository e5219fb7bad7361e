import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../http/context.js";
import { requestSignal } from "../http/request-signal.js";
import { terminateUpload } from "../http/terminate-upload.js";
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
    terminateUpload(ctx, record),
    ...parts.map((id) => ctx.cancels.cancel(id, "client").catch(() => undefined)),
  ]);
  if (report === undefined || report.verified) return reply.code(204).send();
  return reply.code(202).send(report);
}
