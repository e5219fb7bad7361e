import type { FastifyInstance } from "fastify";
import { authorizedUpload } from "../auth.js";
import type { AppContext } from "../context.js";
import { requestSignal } from "../request-signal.js";
import { bearerSecurity, errorResponses, uploadIdParams, videoSchema } from "../schemas.js";

export function registerCompleteUpload(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Params: { id: string } }>(
    "/v1/uploads/:id/complete",
    {
      schema: {
        summary: "Join the segments into the video",
        description:
          "Checks every segment is stored, joins them in order, checks the result is a video (magic bytes, and ffprobe when installed), then removes the segments. A file that is not a video is refused (422) and nothing of it is kept.",
        tags: ["uploads"],
        params: uploadIdParams,
        security: bearerSecurity,
        response: { 200: videoSchema, ...errorResponses(400, 401, 403, 404, 409, 410, 422) },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const record = await authorizedUpload(request, ctx.repository, request.params.id, signal);
      return ctx.completes.complete(record, signal);
    },
  );
}
