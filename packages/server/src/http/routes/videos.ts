import { Readable } from "node:stream";
import { RangeNotSatisfiableError, VideoNotFoundError } from "@cleancut/core";
import type { FastifyInstance } from "fastify";
import { assertValidId } from "../../ids.js";
import { authorizedUpload } from "../auth.js";
import type { AppContext } from "../context.js";
import { parseRange } from "../range.js";
import { requestSignal } from "../request-signal.js";
import { bearerSecurity, errorResponses, videoSchema } from "../schemas.js";

const videoParams = { type: "object", properties: { id: { type: "string" } }, required: ["id"] } as const;

export function registerVideoRoutes(app: FastifyInstance, ctx: AppContext): void {
  const findVideo = async (id: string, signal: AbortSignal) => {
    assertValidId(id, "video id");
    const video = await ctx.repository.getVideo(id, signal);
    if (video === undefined) throw new VideoNotFoundError(`video ${id} does not exist`);
    return video;
  };

  app.get<{ Params: { id: string } }>(
    "/v1/videos/:id",
    {
      schema: {
        summary: "A completed video's metadata",
        description: "Video ids are unguessable; whoever has one may read the video (like an unlisted link).",
        tags: ["videos"],
        params: videoParams,
        response: { 200: videoSchema, ...errorResponses(400, 404) },
      },
    },
    async (request, reply) => {
      const { storageKey: _key, ...info } = await findVideo(request.params.id, requestSignal(reply));
      return info;
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/videos/:id/content",
    {
      schema: {
        summary: "Stream a completed video",
        description: "Supports a single `Range: bytes=…` for seeking (206).",
        tags: ["videos"],
        params: videoParams,
        response: errorResponses(400, 404, 416),
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const video = await findVideo(request.params.id, signal);
      const size = await ctx.videos.statVideo(video.storageKey, signal);
      if (size === undefined) throw new VideoNotFoundError(`video ${video.videoId} is missing from storage`);
      let range: ReturnType<typeof parseRange>;
      try {
        range = parseRange(request.headers.range, size);
      } catch (error) {
        if (error instanceof RangeNotSatisfiableError) void reply.header("content-range", `bytes */${size}`);
        throw error;
      }
      const body = await ctx.videos.readVideo(video.storageKey, range, signal);
      void reply
        .header("accept-ranges", "bytes")
        .header("content-type", video.contentType)
        .header("etag", `"${video.sha256}"`)
        .header("cache-control", "private, max-age=3600");
      if (range === undefined) {
        return reply.header("content-length", size).send(asReadable(body));
      }
      return reply
        .code(206)
        .header("content-range", `bytes ${range.start}-${range.end}/${size}`)
        .header("content-length", range.end - range.start + 1)
        .send(asReadable(body));
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/videos/:id",
    {
      schema: {
        summary: "Delete a completed video",
        description: "Needs the token of the upload that made it. Idempotent once authorised.",
        tags: ["videos"],
        params: videoParams,
        security: bearerSecurity,
        response: { 204: { type: "null" }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const video = await findVideo(request.params.id, signal);
      await authorizedUpload(request, ctx.repository, video.uploadId, signal);
      await ctx.videos.deleteVideo(video.storageKey, signal);
      await ctx.repository.deleteVideo(video.videoId, signal, {
        type: "video.deleted",
        data: { videoId: video.videoId },
      });
      return reply.code(204).send();
    },
  );
}

function asReadable(body: AsyncIterable<Uint8Array>): Readable {
  return body instanceof Readable ? body : Readable.from(body);
}
