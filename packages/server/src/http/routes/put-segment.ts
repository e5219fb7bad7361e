import { UploadNotFoundError } from "@cleancut/core";
import type { FastifyInstance } from "fastify";
import { authorizedUpload } from "../auth.js";
import type { AppContext } from "../context.js";
import { requestSignal } from "../request-signal.js";
import { bearerSecurity, errorResponses, segmentParams, storedSegmentSchema } from "../schemas.js";
import {
  assertAcceptsSegments,
  checkDeclaredLength,
  expectedSegmentSize,
  parseContentDigest,
  parseSegmentIndex,
} from "../segment-request.js";

export function registerPutSegment(app: FastifyInstance, ctx: AppContext): void {
  // Its own scope: the body is never parsed or buffered here, it streams to the store.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.put<{ Params: { id: string; index: string } }>(
      "/v1/uploads/:id/segments/:index",
      {
        schema: {
          summary: "Upload one segment",
          description:
            "Raw bytes; exactly segmentSize bytes except the last segment. Optional `Content-Digest: sha-256=:<base64>:` is checked. Re-sending a segment is idempotent.",
          tags: ["segments"],
          params: segmentParams,
          security: bearerSecurity,
          response: { 201: storedSegmentSchema, ...errorResponses(400, 401, 403, 404, 409, 410) },
        },
      },
      async (request, reply) => {
        const signal = requestSignal(reply);
        const record = await authorizedUpload(request, ctx.repository, request.params.id, signal);
        const index = parseSegmentIndex(request.params.index, record);
        const size = expectedSegmentSize(record, index);
        checkDeclaredLength(request.headers["content-length"], size, index);
        const sha256 = parseContentDigest(request.headers["content-digest"] as string | undefined);
        const handle = { id: record.id, storageRef: record.storageRef };
        const stored = await ctx.inflight.run(record.id, signal, async (opSignal) => {
          // Registered first, then the state is read: a cancel either is seen here or sees us.
          const current = await ctx.repository.getUpload(record.id, opSignal);
          if (current === undefined) throw new UploadNotFoundError(`upload ${record.id} does not exist`);
          assertAcceptsSegments(current);
          const segment = await ctx.store.writeSegment(
            handle,
            sha256 === undefined ? { index, size } : { index, size, sha256 },
            request.raw,
            opSignal,
          );
          await ctx.repository.recordSegment(record.id, segment, opSignal);
          // Counted once stored and recorded: a write cut off by a cancel is not "received".
          ctx.operations.metrics.segmentBytesReceived.inc(segment.size);
          return segment;
        });
        return reply.code(201).send(stored);
      },
    );
  });
}
