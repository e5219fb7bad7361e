import { UploadCancelledError } from "@cleancut/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../http/context.js";
import { publicPath } from "../http/public-path.js";
import { requestSignal } from "../http/request-signal.js";
import { finishIfComplete } from "./finish.js";
import { tusPosition } from "./offset.js";
import { assertTusVersion } from "./protocol.js";
import { claimTusUpload, expiryHeaders, loadTusUpload } from "./tus-upload.js";
import { tusBasePath } from "./upload-url.js";

/** `HEAD /files/<ref>`: the offset to resume from. A cancelled upload is 410, so clients start over. */
export async function handleHead(
  ctx: AppContext,
  request: FastifyRequest<{ Params: { ref: string } }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  assertTusVersion(request.headers);
  const signal = requestSignal(reply);
  let record = await loadTusUpload(ctx, request.params.ref, signal);
  if (record.state === "cancelling" || record.state === "cancelled" || record.state === "failed") {
    throw new UploadCancelledError(
      `upload ${record.id} was ${record.cancelReason === "concatenated" ? "concatenated" : "cancelled"}`,
    );
  }
  record = await claimTusUpload(ctx, record, signal);
  const position = await tusPosition(ctx.repository, record, signal);
  // Every byte is here but the join did not happen (it failed and was given back): join now,
  // or a client that sees offset == length would believe it is done.
  if (position.offset === record.size) record = await finishIfComplete(ctx, record, signal);
  const concat = record.tus?.concat;
  reply.headers({
    "cache-control": "no-store",
    "upload-offset": String(position.offset),
    "upload-length": String(record.size),
    ...expiryHeaders(record),
  });
  if (record.tus?.metadata !== undefined) reply.header("upload-metadata", record.tus.metadata);
  if (concat?.kind === "partial") reply.header("upload-concat", "partial");
  // The parts' tokens are not kept (only hashes are), so the final names them without one.
  if (concat?.kind === "final") {
    reply.header(
      "upload-concat",
      `final;${concat.parts.map((id) => publicPath(request, `${tusBasePath}${id}`)).join(" ")}`,
    );
  }
  return reply.code(200).send();
}
