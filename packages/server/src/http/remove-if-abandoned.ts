import type { UploadRecord } from "@cleancut/core";
import type { FastifyReply } from "fastify";
import type { AppContext } from "./context.js";
import { terminateUpload } from "./terminate-upload.js";

/**
 * A client that goes away before a creation's 201 reached it never learnt the upload's id or
 * URL, so nobody would ever cancel it (a dropped connection, a client retrying its create, an
 * abort during creation): once the request's connection closes without the 201 written, the
 * server removes the upload itself: cancelled and verified, or its video deleted if it
 * completed within that request (a tus final upload, or a creation whose body held every byte).
 */
export function removeIfAbandoned(ctx: AppContext, reply: FastifyReply, record: UploadRecord): void {
  const remove = () => {
    if (reply.raw.writableFinished) return;
    terminateUpload(ctx, record).catch((error: unknown) => {
      reply.log.warn(
        { uploadId: record.id, err: error },
        "could not remove an upload whose creator went away",
      );
    });
  };
  if (reply.raw.destroyed) remove();
  else reply.raw.once("close", remove);
}
