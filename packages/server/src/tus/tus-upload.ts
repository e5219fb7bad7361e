import { UploadNotFoundError, type UploadRecord } from "@cleancut/core";
import type { AppContext } from "../http/context.js";
import { tokenMatches } from "../ids.js";
import type { appendBytes } from "./append-bytes.js";
import { httpDate } from "./protocol.js";
import { parseTusUploadRef } from "./upload-url.js";

/**
 * The tus upload a `/files/<id>.<token>` names. A wrong token answers like an unknown upload
 * (404): the URL is the only credential, and a near miss must not confirm the id exists.
 */
export async function loadTusUpload(
  ctx: AppContext,
  ref: string,
  signal: AbortSignal,
): Promise<UploadRecord> {
  const { id, token } = parseTusUploadRef(ref);
  const record = await ctx.repository.getUpload(id, signal);
  if (record === undefined || record.tus === undefined || !tokenMatches(token, record.tokenHash)) {
    throw new UploadNotFoundError(`no tus upload at ${id}`);
  }
  return record;
}

/**
 * A touch (HEAD, PATCH) proves the client knows the URL: the short expiry of an unclaimed
 * upload grows to the full upload lifetime. One write, the first time only.
 */
export async function claimTusUpload(
  ctx: AppContext,
  record: UploadRecord,
  signal: AbortSignal,
): Promise<UploadRecord> {
  const full = record.createdAt + ctx.config.uploadTtlMs;
  if (record.state !== "uploading" || record.expiresAt >= full || Date.now() >= record.expiresAt)
    return record;
  await ctx.repository.patchUpload(record.id, { expiresAt: full }, signal);
  return { ...record, expiresAt: full };
}

/** `Upload-Expires`, for an upload that can still expire. */
export function expiryHeaders(record: UploadRecord): Record<string, string> {
  return record.state === "uploading" ? { "upload-expires": httpDate(record.expiresAt) } : {};
}

/** What appending bytes to a tus upload needs from the server: its stores, and the bytes-in metric. */
export function appendDeps(ctx: AppContext): Parameters<typeof appendBytes>[0] {
  return {
    repository: ctx.repository,
    store: ctx.store,
    onSegmentStored: (segment) => ctx.operations.metrics.segmentBytesReceived.inc(segment.size),
  };
}
