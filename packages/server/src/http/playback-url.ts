import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { PlaybackUrlExpiredError, PlaybackUrlInvalidError, UnauthorizedError } from "@cleancut/core";
import type { FastifyRequest } from "fastify";
import type { ServerConfig } from "../config.js";
import { bearerToken, requireApiKey } from "./auth.js";

/** Longest a playback URL may live: a link handed out is a link that can be shared. */
export const maxPlaybackSeconds = 7 * 24 * 60 * 60;
export const defaultPlaybackSeconds = 60 * 60;

/**
 * The key playback URLs are signed with. It is derived (HKDF-SHA256) from `--playback-secret`,
 * or from the API key when there is none, so the raw secret never signs anything itself and a
 * URL says nothing about the API key. Instances that share a secret (or API key) accept each
 * other's URLs; changing it invalidates every URL handed out.
 */
export function playbackKey(config: Pick<ServerConfig, "playbackSecret" | "apiKey">): Buffer | undefined {
  const secret = config.playbackSecret ?? config.apiKey;
  if (secret === undefined) return undefined;
  return Buffer.from(hkdfSync("sha256", secret, "cleancut", "cleancut playback-url v1", 32));
}

/** The signature of `videoId` until `expires` (unix seconds), base64url. */
export function playbackSignature(key: Buffer, videoId: string, expires: number): string {
  return createHmac("sha256", key).update(`${videoId}.${expires}`).digest("base64url");
}

/** The path (with query) that streams `videoId` until `expires`. */
export function playbackPath(key: Buffer, videoId: string, expires: number): string {
  const signature = playbackSignature(key, videoId, expires);
  return `/v1/videos/${videoId}/content?expires=${expires}&signature=${signature}`;
}

export interface PlaybackQuery {
  expires?: string;
  signature?: string;
}

/**
 * Lets a read of a private video through: the API key, or a signed, unexpired playback URL for
 * this video. Without either: 401 `unauthorized`; a wrong key: 403 `forbidden`; a signature
 * that does not match: 403 `playback_url_invalid`; a genuine one past its time: 403
 * `playback_url_expired` (the signature is checked first, so only genuine URLs are told that).
 * Returns the URL's expiry (unix seconds) when it was a URL, so caching can stop there.
 */
export function authorizePlayback(
  request: FastifyRequest,
  config: ServerConfig,
  key: Buffer,
  videoId: string,
  query: PlaybackQuery,
): number | undefined {
  if (query.signature === undefined && query.expires === undefined) {
    if (bearerToken(request) === undefined) {
      throw new UnauthorizedError(
        "this video is private: use a playback URL from POST /v1/videos/{id}/playback-url, or the API key",
      );
    }
    requireApiKey(request, config.apiKey);
    return undefined;
  }
  const expires = Number(query.expires);
  const given = Buffer.from(query.signature ?? "");
  const wanted = Buffer.from(
    Number.isSafeInteger(expires) && /^\d+$/.test(query.expires ?? "")
      ? playbackSignature(key, videoId, expires)
      : "",
  );
  if (wanted.length === 0 || given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw new PlaybackUrlInvalidError("this playback URL is not valid for this video");
  }
  if (expires * 1000 <= Date.now()) {
    throw new PlaybackUrlExpiredError(
      `this playback URL expired at ${new Date(expires * 1000).toISOString()}`,
      {
        details: { expiresAt: new Date(expires * 1000).toISOString() },
      },
    );
  }
  return expires;
}
