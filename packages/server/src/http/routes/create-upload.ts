import {
  type CreateUploadRequest,
  type CreateUploadResponse,
  DirectModeUnavailableError,
} from "@cleancut/core";
import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";
import { authorizerStep, createAccess } from "../create-access.js";
import { validateMetadata } from "../metadata.js";
import { creatorOf, openUpload } from "../open-upload.js";
import { OpenUploadCap } from "../open-upload-cap.js";
import { publicPath } from "../public-path.js";
import { removeIfAbandoned } from "../remove-if-abandoned.js";
import { requestSignal } from "../request-signal.js";
import { errorResponses, errorSchema, metadataSchema, ownerSchema } from "../schemas.js";

export function registerCreateUpload(app: FastifyInstance, ctx: AppContext): void {
  const cap = new OpenUploadCap(ctx.repository, ctx.config.maxOpenUploadsPerClient);
  const rate = ctx.config.createRateLimit;
  app.post<{ Body: CreateUploadRequest }>(
    "/v1/uploads",
    {
      // Per client address (see app.ts for the limiter and its answer).
      config: rate === false ? {} : { rateLimit: { max: rate.max, timeWindow: rate.windowMs } },
      // Before the schema: its type coercion would turn `{n: 1}` into `{n: "1"}` instead of refusing it.
      preValidation: async (request) => {
        const body = request.body as { metadata?: unknown } | undefined;
        if (typeof body === "object" && body !== null && body.metadata !== undefined) {
          validateMetadata(body.metadata);
        }
      },
      schema: {
        summary: "Start an upload",
        description:
          "Declares the file; the answer says how to cut it and carries the token for every later call. With an authorizer (`--authorize-url`), the application is asked first, unless the caller presents the API key: it may refuse (`rejected_by_app`, with the application's own 4xx status and message), be unavailable (503 `authorizer_unavailable`), or allow and set the upload's `owner`, `metadata` and a lower size limit (413 `upload_too_large`). Nothing is created when refused.",
        tags: ["uploads"],
        body: {
          type: "object",
          properties: {
            filename: { type: "string", minLength: 1, maxLength: 255 },
            size: { type: "integer", minimum: 1 },
            contentType: { type: "string", minLength: 1, maxLength: 127 },
            segmentSize: { type: "integer", minimum: 1 },
            mode: {
              type: "string",
              enum: ["proxy", "direct"],
              description:
                "`proxy` (default): segments are PUT to this server. `direct`: each segment is PUT straight to storage with a URL from `POST …/segments/{index}/presign`, then confirmed; needs a store that can presign (S3), else 400 `direct_mode_unavailable`.",
            },
            metadata: metadataSchema,
            owner: {
              ...ownerSchema,
              description:
                "The application's user this upload belongs to. Only with the server's API key (else 403 `forbidden`).",
            },
          },
          required: ["filename", "size", "contentType"],
          additionalProperties: false,
        },
        response: {
          201: {
            type: "object",
            properties: {
              id: { type: "string" },
              token: { type: "string" },
              segmentSize: { type: "integer" },
              segmentCount: { type: "integer" },
              expiresAt: { type: "string", format: "date-time" },
              mode: { type: "string", enum: ["proxy", "direct"] },
            },
            required: ["id", "token", "segmentSize", "segmentCount", "expiresAt", "mode"],
          },
          ...errorResponses(400, 401, 403, 413, 415, 429, 503),
          "4xx": {
            ...errorSchema,
            description:
              "`rejected_by_app`: the application's authorizer refused, with its own 4xx status and message.",
          },
        },
      },
    },
    async (request, reply) => {
      const { filename, size, contentType, segmentSize, metadata, owner } = request.body;
      const access = createAccess(request, ctx.config, owner);
      const mode = request.body.mode ?? "proxy";
      if (mode === "direct" && ctx.store.presignSegmentUpload === undefined) {
        throw new DirectModeUnavailableError(
          `direct uploads need a store that can presign segment uploads; the ${ctx.store.kind} store cannot: use mode "proxy"`,
          { details: { store: ctx.store.kind } },
        );
      }
      const { record, token } = await openUpload(ctx, cap, {
        filename,
        size,
        contentType,
        ...(segmentSize === undefined ? {} : { segmentSize }),
        creator: creatorOf(request.ip),
        ...(owner === undefined ? {} : { owner }),
        ...(metadata === undefined ? {} : { metadata }),
        ...(access === "authorizer"
          ? { admit: authorizerStep(ctx.config, request, requestSignal(reply), { protocol: "v1" }) }
          : {}),
      });
      const id = record.id;
      request.log.info({ uploadId: id, size, segmentCount: record.segmentCount, mode }, "upload created");
      removeIfAbandoned(ctx, reply, record);
      const body: CreateUploadResponse = {
        id,
        token,
        segmentSize: record.segmentSize,
        segmentCount: record.segmentCount,
        expiresAt: new Date(record.expiresAt).toISOString(),
        mode,
      };
      return reply
        .code(201)
        .header("location", publicPath(request, `/v1/uploads/${id}`))
        .send(body);
    },
  );
}
