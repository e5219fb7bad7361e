import type { FastifyInstance } from "fastify";
import { uploadForTokenOrApp } from "../auth.js";
import type { AppContext } from "../context.js";
import { requestSignal } from "../request-signal.js";
import { bearerSecurity, cancelReportSchema, errorResponses, uploadIdParams } from "../schemas.js";

export function registerCancelUpload(app: FastifyInstance, ctx: AppContext): void {
  app.delete<{ Params: { id: string } }>(
    "/v1/uploads/:id",
    {
      schema: {
        summary: "Cancel: stop every transfer and delete every stored byte, verified",
        description:
          "Tombstones the upload (later PUTs get 410 upload_cancelled), cuts off segment writes in flight, deletes every stored segment and lists storage again. 200 when storage was verified empty; 202 with the failures when something is left — the server keeps retrying with backoff, across restarts, until verified. Idempotent: repeated or concurrent calls get the same report. Needs the upload's token, or the server's API key (the application cancels any upload).",
        tags: ["uploads"],
        params: uploadIdParams,
        security: bearerSecurity,
        response: {
          200: cancelReportSchema,
          202: cancelReportSchema,
          ...errorResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const record = await uploadForTokenOrApp(
        request,
        ctx.repository,
        ctx.config.apiKey,
        request.params.id,
        requestSignal(reply),
      );
      const report = await ctx.cancels.cancel(record.id, "client");
      return reply.code(report.verified ? 200 : 202).send(report);
    },
  );
}
