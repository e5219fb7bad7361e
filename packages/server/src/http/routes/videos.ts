import { Readable } from "node:stream";
import { RangeNotSatisfiableError, UnsupportedOperationError, VideoNotFoundError } from "@cleancut/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { assertValidId } from "../../ids.js";
import { authorizedUpload, hasApiKey, requireApiKey } from "../auth.js";
import type { AppContext } from "../context.js";
import {
  authorizePlayback,
  defaultPlaybackSeconds,
  maxPlaybackSeconds,
  type PlaybackQuery,
  playbackKey,
  playbackPath,
} from "../playback-url.js";
import { publicPath } from "../public-path.js";
import { parseRange } from "../range.js";
import { requestSignal } from "../request-signal.js";
import { bearerSecurity, errorResponses, videoSchema } from "../schemas.js";

const videoParams = { type: "object", properties: { id: { type: "string" } }, required: ["id"] } as const;

/** A playback URL's query; strings, so a tampered value is 403 `playback_url_invalid`, not a schema 400. */
const playbackQuerystring = {
  type: "object",
  properties: {
    expires: {
      type: "string",
      description: "With `--private-videos`: a playback URL's expiry (unix seconds).",
    },
    signature: { type: "string", description: "With `--private-videos`: a playback URL's signature." },
  },
} as const;

const privateNote =
  " With `--private-videos`: needs the API key (401 without, 403 for a wrong one) or a playback URL's `expires` and `signature` (403 `playback_url_invalid` when tampered, 403 `playback_url_expired` when late).";

export function registerVideoRoutes(app: FastifyInstance, ctx: AppContext): void {
  const key = playbackKey(ctx.config);
  /** Without `--private-videos`, a video id is an unlisted link; with it, the key or a signed URL. */
  const guardRead = (request: FastifyRequest, id: string, query: PlaybackQuery): number | undefined =>
    ctx.config.privateVideos && key !== undefined
      ? authorizePlayback(request, ctx.config, key, id, query)
      : undefined;
  const findVideo = async (id: string, signal: AbortSignal) => {
    assertValidId(id, "video id");
    const video = await ctx.repository.getVideo(id, signal);
    if (video === undefined) throw new VideoNotFoundError(`video ${id} does not exist`);
    return video;
  };

  app.get<{ Params: { id: string }; Querystring: PlaybackQuery }>(
    "/v1/videos/:id",
    {
      schema: {
        summary: "A completed video's metadata",
        description: `Video ids are unguessable; whoever has one may read the video (like an unlisted link).${privateNote}`,
        tags: ["videos"],
        params: videoParams,
        querystring: playbackQuerystring,
        response: { 200: videoSchema, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      guardRead(request, request.params.id, request.query);
      const { storageKey: _key, ...info } = await findVideo(request.params.id, requestSignal(reply));
      return info;
    },
  );

  app.get<{ Params: { id: string }; Querystring: PlaybackQuery }>(
    "/v1/videos/:id/content",
    {
      schema: {
        summary: "Stream a completed video",
        description: `Supports a single \`Range: bytes=…\` for seeking (206).${privateNote}`,
        tags: ["videos"],
        params: videoParams,
        querystring: playbackQuerystring,
        response: errorResponses(400, 401, 403, 404, 416),
      },
    },
    async (request, reply) => {
      const urlExpires = guardRead(request, request.params.id, request.query);
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
        .header("cache-control", `private, max-age=${cacheSeconds(urlExpires)}`);
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

  app.post<{ Params: { id: string }; Body: { expiresIn?: number } | undefined }>(
    "/v1/videos/:id/playback-url",
    {
      // The body is optional: a POST without one takes the defaults.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        summary: "Mint a signed, short-lived URL that streams a video",
        description:
          "For `--private-videos`: the application (API key) hands the URL to whoever may watch; it streams the video (Range requests included) until `expiresAt`, then answers 403 `playback_url_expired`. Signed with HMAC-SHA256 over the video id and expiry. Needs a server with an API key (else 501 `unsupported_operation`).",
        tags: ["videos"],
        params: videoParams,
        security: bearerSecurity,
        body: {
          type: "object",
          properties: {
            expiresIn: {
              type: "integer",
              minimum: 1,
              maximum: maxPlaybackSeconds,
              default: defaultPlaybackSeconds,
              description: "Seconds the URL works (default 3600, at most 7 days).",
            },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: "object",
            properties: {
              url: {
                type: "string",
                description:
                  "`/v1/videos/{id}/content?expires=<unix seconds>&signature=<base64url>`, relative to this server",
              },
              expiresAt: { type: "string", format: "date-time" },
            },
            required: ["url", "expiresAt"],
          },
          ...errorResponses(400, 401, 403, 404, 501),
        },
      },
    },
    async (request, reply) => {
      if (ctx.config.apiKey === undefined || key === undefined) {
        throw new UnsupportedOperationError("playback URLs need a server with an API key (--api-key)");
      }
      requireApiKey(request, ctx.config.apiKey);
      const video = await findVideo(request.params.id, requestSignal(reply));
      const expires = Math.floor(Date.now() / 1000) + (request.body?.expiresIn ?? defaultPlaybackSeconds);
      return {
        url: publicPath(request, playbackPath(key, video.videoId, expires)),
        expiresAt: new Date(expires * 1000).toISOString(),
      };
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/videos/:id",
    {
      schema: {
        summary: "Delete a completed video",
        description:
          "Needs the token of the upload that made it, or the API key. Idempotent once authorised.",
        tags: ["videos"],
        params: videoParams,
        security: bearerSecurity,
        response: { 204: { type: "null" }, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const video = await findVideo(request.params.id, signal);
      if (!hasApiKey(request, ctx.config.apiKey)) {
        await authorizedUpload(request, ctx.repository, video.uploadId, signal);
      }
      await ctx.videos.deleteVideo(video.storageKey, signal);
      await ctx.repository.deleteVideo(video.videoId, signal, {
        type: "video.deleted",
        data: { videoId: video.videoId },
      });
      return reply.code(204).send();
    },
  );
}

/** A signed URL's response is not cached past the URL's own expiry. */
function cacheSeconds(urlExpires: number | undefined): number {
  if (urlExpires === undefined) return 3600;
  return Math.max(0, Math.min(3600, urlExpires - Math.floor(Date.now() / 1000)));
}

function asReadable(body: AsyncIterable<Uint8Array>): Readable {
  return body instanceof Readable ? body : Readable.from(body);
}
