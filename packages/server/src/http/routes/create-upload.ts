import { createHash } from "node:crypto";
import {
  type CreateUploadRequest,
  type CreateUploadResponse,
  DirectModeUnavailableError,
  InvalidRequestError,
  InvalidSegmentSizeError,
  segmentLayout,
  UnsupportedContentTypeError,
  UploadTooLargeError,
} from "@cleancut/core";
import type { FastifyInstance } from "fastify";
import { hashToken, newId, newToken } from "../../ids.js";
import { requireApiKey } from "../auth.js";
import type { AppContext } from "../context.js";
import { OpenUploadCap } from "../open-upload-cap.js";
import { errorResponses } from "../schemas.js";

const acceptedContentType = /^(video\/[\w.+-]+|application\/(octet-stream|mp4|ogg|x-matroska))$/i;

export function registerCreateUpload(app: FastifyInstance, ctx: AppContext): void {
  const cap = new OpenUploadCap(ctx.repository, ctx.config.maxOpenUploadsPerClient);
  const rate = ctx.config.createRateLimit;
  app.post<{ Body: CreateUploadRequest }>(
    "/v1/uploads",
    {
      // Per client address (see app.ts for the limiter and its answer).
      config: rate === false ? {} : { rateLimit: { max: rate.max, timeWindow: rate.windowMs } },
      schema: {
        summary: "Start an upload",
        description:
          "Declares the file; the answer says how to cut it and carries the token for every later call.",
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
          ...errorResponses(400, 401, 403, 413, 415, 429),
        },
      },
    },
    async (request, reply) => {
      requireApiKey(request, ctx.config.apiKey);
      const { filename, size, contentType } = request.body;
      const mode = request.body.mode ?? "proxy";
      if (mode === "direct" && ctx.store.presignSegmentUpload === undefined) {
        throw new DirectModeUnavailableError(
          `direct uploads need a store that can presign segment uploads; the ${ctx.store.kind} store cannot: use mode "proxy"`,
          { details: { store: ctx.store.kind } },
        );
      }
      if (hasControlCharacters(filename)) {
        throw new InvalidRequestError("filename must not contain control characters");
      }
      if (!acceptedContentType.test(contentType)) {
        throw new UnsupportedContentTypeError(
          `contentType ${JSON.stringify(contentType)} is not a video type`,
        );
      }
      if (size > ctx.config.maxUploadSize) {
        throw new UploadTooLargeError(`uploads may be at most ${ctx.config.maxUploadSize} bytes`, {
          details: { size, limit: ctx.config.maxUploadSize },
        });
      }
      const limits = ctx.store.segmentSizeLimits;
      const segmentSize =
        request.body.segmentSize ?? Math.max(limits.min, Math.min(ctx.config.defaultSegmentSize, limits.max));
      if (segmentSize < limits.min || segmentSize > limits.max) {
        throw new InvalidSegmentSizeError(
          `segmentSize must be between ${limits.min} and ${limits.max} bytes`,
          {
            details: { segmentSize, min: limits.min, max: limits.max },
          },
        );
      }
      const layout = segmentLayout(size, segmentSize);
      if (layout.segmentCount > limits.maxSegments) {
        throw new InvalidSegmentSizeError(
          `${layout.segmentCount} segments is more than the ${limits.maxSegments} allowed: use larger segments`,
          { details: { segmentCount: layout.segmentCount, maxSegments: limits.maxSegments } },
        );
      }
      // Not tied to the request: once storage is prepared, the record must be written too,
      // or the storage removed, whatever the client does meanwhile.
      const signal = new AbortController().signal;
      const id = newId();
      const token = newToken();
      const owner = ownerOf(request.ip);
      const record = await cap.run(owner, signal, async () => {
        const now = Date.now();
        const storageRef = await ctx.store.beginUpload(id, contentType, signal);
        return ctx.repository
          .createUpload(
            {
              id,
              tokenHash: hashToken(token),
              filename,
              contentType,
              size,
              segmentSize,
              segmentCount: layout.segmentCount,
              storageRef,
              createdAt: now,
              expiresAt: now + ctx.config.uploadTtlMs,
              owner,
            },
            signal,
          )
          .catch(async (error: unknown) => {
            await ctx.store.discardUpload({ id, storageRef }, signal);
            throw error;
          });
      });
      request.log.info({ uploadId: id, size, segmentCount: layout.segmentCount, mode }, "upload created");
      const body: CreateUploadResponse = {
        id,
        token,
        segmentSize,
        segmentCount: layout.segmentCount,
        expiresAt: new Date(record.expiresAt).toISOString(),
        mode,
      };
      return reply.code(201).header("location", `/v1/uploads/${id}`).send(body);
    },
  );
}

/** The client an upload counts against: its address (hashed, so the database keeps no IP). */
function ownerOf(address: string): string {
  return `addr:${createHash("sha256").update(address).digest("base64url").slice(0, 22)}`;
}

function hasControlCharacters(text: string): boolean {
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
