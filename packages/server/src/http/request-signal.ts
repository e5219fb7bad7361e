import { BodyIncompleteError } from "@cleancut/core";
import type { FastifyReply } from "fastify";

/** Aborts when the client goes away before the response was sent. */
export function requestSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished)
      controller.abort(
        new BodyIncompleteError("the client closed the connection before the request finished"),
      );
  });
  return controller.signal;
}
