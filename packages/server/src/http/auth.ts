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
  const a = Buffer.from(token);
  const b = Buffer.from(apiKey);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new ForbiddenError("that API key is not valid");
}
