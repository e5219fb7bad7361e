import type { FastifyInstance } from "fastify";
import { authorizedUpload } from "../auth.js";
import type { AppContext } from "../context.js";
import { requestSignal } from "../request-signal.js";
import {
  bearerSecurity,
  errorResponses,
  segmentParams,
  storedSegmentSchema,
  uploadIdParams,
} from "../schemas.js";
import { assertAcceptsSegments, parseSegmentIndex } from "../segment-request.js";

export function registerSegmentRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Params: { id: string } }>(
    "/v1/uploads/:id/segments",
    {
      schema: {
        summary: "List the segments storage holds",
        description: "Listed from storage itself, not from the database.",
        tags: ["segments"],
        params: uploadIdParams,
        security: bearerSecurity,
        response: {
          200: { type: "array", items: storedSegmentSchema },
          ...errorResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const record = await authorizedUpload(request, ctx.repository, request.params.id, signal);
      return ctx.store.listSegments({ id: record.id, storageRef: record.storageRef }, signal);
    },
  );

  app.delete<{ Params: { id: string; index: string } }>(
    "/v1/uploads/:id/segments/:index",
    {
      schema: {
        summary: "Delete one segment",
        description: "Idempotent: deleting a segment that is not stored succeeds.",
        tags: ["segments"],
        params: segmentParams,
        security: bearerSecurity,
        response: { 204: { type: "null" }, ...errorResponses(400, 401, 403, 404, 409, 410) },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const record = await authorizedUpload(request, ctx.repository, request.params.id, signal);
      const index = parseSegmentIndex(request.params.index, record);
      await ctx.inflight.run(record.id, undefined, async (opSignal) => {
        const current = (await ctx.repository.getUpload(record.id, opSignal)) ?? record;
        assertAcceptsSegments(current);
        await ctx.store.deleteSegment({ id: record.id, storageRef: record.storageRef }, index, opSignal);
        await ctx.repository.forgetSegment(record.id, index, opSignal);
      });
      return reply.code(204).send();
    },
  );
}
