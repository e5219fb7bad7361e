import {
  ForbiddenError,
  InvalidRequestError,
  OffsetMismatchError,
  UnsupportedContentTypeError,
  UploadNotFoundError,
} from "@cleancut/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../http/context.js";
import { requestSignal } from "../http/request-signal.js";
import { assertAcceptsSegments } from "../http/segment-request.js";
import { appendBytes } from "./append-bytes.js";
import { finishIfComplete } from "./finish.js";
import { tusPosition } from "./offset.js";
import type { PatchLock } from "./patch-lock.js";
import {
  assertTusVersion,
  carriesTusBytes,
  parseByteCount,
  parseUploadChecksum,
  requireByteCount,
  tusContentType,
} from "./protocol.js";
import { appendDeps, claimTusUpload, expiryHeaders, loadTusUpload } from "./tus-upload.js";

/**
 * `PATCH /files/<ref>`: bytes at `Upload-Offset`. Runs as an in-flight operation of the
 * upload, so a DELETE cuts it off and waits for it before deleting; the last byte completes
 * the upload before the 204.
 */
export async function handlePatch(
  ctx: AppContext,
  lock: PatchLock,
  request: FastifyRequest<{ Params: { ref: string } }>,
  reply: FastifyReply,
): Promise<FastifyReply> {
  assertTusVersion(request.headers);
  if (!carriesTusBytes(request.headers)) {
    throw new UnsupportedContentTypeError(`PATCH bodies must be Content-Type: ${tusContentType}`);
  }
  const offset = requireByteCount(request.headers, "upload-offset");
  const length = parseByteCount(request.headers, "content-length");
  const checksum = parseUploadChecksum(request.headers["upload-checksum"] as string | undefined);
  const clientGone = requestSignal(reply);
  const loaded = await loadTusUpload(ctx, request.params.ref, clientGone);
  if (loaded.tus?.concat?.kind === "final") {
    throw new ForbiddenError("a final upload is made by concatenation and takes no PATCH");
  }
  if (length !== undefined && offset + length > loaded.size) {
    throw new InvalidRequestError(
      `${length} bytes at offset ${offset} run past Upload-Length (${loaded.size})`,
    );
  }
  const newOffset = await lock.run(loaded.id, (superseded) =>
    ctx.inflight.run(loaded.id, AbortSignal.any([clientGone, superseded]), async (signal) => {
      // Registered first, then the state is read: a cancel either is seen here or sees us.
      const current = await ctx.repository.getUpload(loaded.id, signal);
      if (current === undefined) throw new UploadNotFoundError(`upload ${loaded.id} does not exist`);
      assertAcceptsSegments(current);
      const record = await claimTusUpload(ctx, current, signal);
      const position = await tusPosition(ctx.repository, record, signal);
      if (position.offset !== offset) {
        throw new OffsetMismatchError(`the upload is at offset ${position.offset}, not ${offset}`, {
          details: { offset: position.offset },
        });
      }
      return appendBytes(appendDeps(ctx), record, position, request.raw, checksum, signal);
    }),
  );
  let record = (await ctx.repository.getUpload(loaded.id, clientGone)) ?? loaded;
  if (newOffset === record.size) record = await finishIfComplete(ctx, record, clientGone);
  return reply
    .code(204)
    .headers({ "upload-offset": String(newOffset), ...expiryHeaders(record) })
    .send();
}
