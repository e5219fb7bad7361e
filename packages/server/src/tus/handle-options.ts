import type { FastifyReply } from "fastify";
import type { AppContext } from "../http/context.js";
import { tusChecksumAlgorithms, tusExtensions, tusVersion } from "./protocol.js";

/** `OPTIONS /files/`: what this server speaks. No Tus-Resumable needed on the request. */
export function handleOptions(ctx: AppContext, reply: FastifyReply): FastifyReply {
  return reply
    .code(204)
    .headers({
      "tus-version": tusVersion,
      "tus-extension": tusExtensions.join(","),
      "tus-max-size": String(ctx.config.maxUploadSize),
      "tus-checksum-algorithm": tusChecksumAlgorithms.join(","),
    })
    .send();
}
