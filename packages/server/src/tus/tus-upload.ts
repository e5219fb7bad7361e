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
 * The short expiry of an upload nobody has touched yet, counted from now, as its URL is handed
 * out. Until then the creation request holds the upload, however long it takes (storage slow
 * to prepare, a creation carrying a long body, a final upload being joined): a client that
 * goes away meanwhile has it cancelled at once, and only one that got the URL can claim it.
 */
export async function armUnclaimedExpiry(
  ctx: AppContext,
  record: UploadRecord,
  signal: AbortSignal,
): Promise<UploadRecord> {
  const expiresAt = Math.min(
    Date.now() + ctx.config.tusUnclaimedTtlMs,
    record.createdAt + ctx.config.uploadTtlMs,
  );
  await ctx.repository.patchUpload(record.id, { expiresAt }, signal);
  return { ...record, expiresAt };
}

/**
 * A touch (HEAD, PATCH) proves the client knows the URL: the short expiry of an unclaimed
 * upload grows to the full upload lifetime. One write, the first time only. A touch that comes
 * after the short expiry but before the reaper took the upload claims it too: its bytes are
 * either kept for the full lifetime or refused with the cancel, never taken and then expired.
 */
export async function claimTusUpload(
  ctx: AppContext,
  record: UploadRecord,
  signal: AbortSignal,
): Promise<UploadRecord> {
  const full = record.createdAt + ctx.config.uploadTtlMs;
  if (record.state !== "uploading" || record.expiresAt >= full) return record;
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
