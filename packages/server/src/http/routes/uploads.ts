import { type UploadState, uploadStates } from "@cleancut/core";
import type { FastifyInstance } from "fastify";
import { requireApiKey, uploadForTokenOrApp } from "../auth.js";
import type { AppContext } from "../context.js";
import { requestSignal } from "../request-signal.js";
import {
  bearerSecurity,
  errorResponses,
  ownerSchema,
  uploadIdParams,
  uploadStatusSchema,
} from "../schemas.js";
import { toUploadStatus } from "../upload-status.js";

export function registerUploadRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.get<{ Params: { id: string } }>(
    "/v1/uploads/:id",
    {
      schema: {
        summary: "An upload's state and progress",
        description:
          "Needs the upload's token, or the server's API key (the application sees any upload). A cancelled upload keeps answering, with its cancel report, until it expires.",
        tags: ["uploads"],
        params: uploadIdParams,
        security: bearerSecurity,
        response: { 200: uploadStatusSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const record = await uploadForTokenOrApp(
        request,
        ctx.repository,
        ctx.config.apiKey,
        request.params.id,
        signal,
      );
      return toUploadStatus(record, await ctx.repository.tallySegments(record.id, signal));
    },
  );

  app.get<{ Querystring: { limit?: number; state?: UploadState; owner?: string } }>(
    "/v1/uploads",
    {
      schema: {
        summary: "List uploads on this server",
        description:
          "Newest first. Needs the API key when the server has one. `owner` lists one application user's uploads.",
        tags: ["uploads"],
        querystring: {
          type: "object",
          properties: {
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            state: { type: "string", enum: [...uploadStates] },
            owner: { ...ownerSchema, description: "Only the uploads of this owner." },
          },
          additionalProperties: false,
        },
        response: { 200: { type: "array", items: uploadStatusSchema }, ...errorResponses(400, 401, 403) },
      },
    },
    async (request, reply) => {
      requireApiKey(request, ctx.config.apiKey);
      const signal = requestSignal(reply);
      const { limit = 100, state, owner } = request.query;
      const records = await ctx.repository.listUploads(
        {
          limit,
          ...(state === undefined ? {} : { states: [state] }),
          ...(owner === undefined ? {} : { owner }),
        },
        signal,
      );
      return Promise.all(
        records.map(async (record) =>
          toUploadStatus(record, await ctx.repository.tallySegments(record.id, signal)),
        ),
      );
    },
  );
}
