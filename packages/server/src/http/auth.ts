import { timingSafeEqual } from "node:crypto";
import {
  ForbiddenError,
  UnauthorizedError,
  UploadNotFoundError,
  type UploadRecord,
  type UploadRepository,
} from "@cleancut/core";
import type { FastifyRequest } from "fastify";
import { assertValidId, tokenMatches } from "../ids.js";

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Loads an upload for a caller who must hold its token: 401 without a token, 400 for a
 * malformed id, 404 for an unknown one, 403 for another upload's token.
 */
export async function authorizedUpload(
  request: FastifyRequest,
  repository: UploadRepository,
  id: string,
  signal: AbortSignal,
): Promise<UploadRecord> {
  const token = bearerToken(request);
  if (token === undefined)
    throw new UnauthorizedError("this call needs the upload's token: Authorization: Bearer <token>");
  assertValidId(id);
  const record = await repository.getUpload(id, signal);
  if (record === undefined) throw new UploadNotFoundError(`upload ${id} does not exist`);
  if (!tokenMatches(token, record.tokenHash))
    throw new ForbiddenError(`that token is not the token of upload ${id}`);
  return record;
}

/** Guards server-wide calls (create, list) when the server was started with an API key. */
export function requireApiKey(request: FastifyRequest, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const token = bearerToken(request);
  if (token === undefined)
    throw new UnauthorizedError("this server needs an API key: Authorization: Bearer <key>");
  if (!keyMatches(token, apiKey)) throw new ForbiddenError("that API key is not valid");
}

/** Whether the caller presented the server's API key (false when the server has none). */
export function hasApiKey(request: FastifyRequest, apiKey: string | undefined): boolean {
  if (apiKey === undefined) return false;
  const token = bearerToken(request);
  return token !== undefined && keyMatches(token, apiKey);
}

/**
 * Loads an upload for its token holder or for the application (the API key opens any upload):
 * the application cancels or inspects its users' uploads without their tokens.
 */
export async function uploadForTokenOrApp(
  request: FastifyRequest,
  repository: UploadRepository,
  apiKey: string | undefined,
  id: string,
  signal: AbortSignal,
): Promise<UploadRecord> {
  if (!hasApiKey(request, apiKey)) return authorizedUpload(request, repository, id, signal);
  assertValidId(id);
  const record = await repository.getUpload(id, signal);
  if (record === undefined) throw new UploadNotFoundError(`upload ${id} does not exist`);
  return record;
}

function keyMatches(token: string, apiKey: string): boolean {
  const a = Buffer.from(token);
  const b = Buffer.from(apiKey);
  return a.length === b.length && timingSafeEqual(a, b);
}
