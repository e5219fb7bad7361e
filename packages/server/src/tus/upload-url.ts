import { InvalidUploadIdError } from "@cleancut/core";
import { isValidId } from "../ids.js";

/** Where the tus endpoint lives. */
export const tusBasePath = "/files/";

/**
 * A tus upload's URL names it and carries its token: `/files/<id>.<token>`. tus has no other
 * place for a per-upload secret (clients store and reuse the bare URL), so the URL is the
 * capability, as with every tus server; the same token opens the upload through `/v1/uploads/<id>`.
 */
export function tusUploadPath(id: string, token: string): string {
  return `${tusBasePath}${id}.${token}`;
}

export interface TusUploadRef {
  id: string;
  token: string;
}

/** Splits the last path segment of `/files/<id>.<token>` (or of a full URL to it). */
export function parseTusUploadRef(value: string): TusUploadRef {
  let path = value;
  if (/^https?:\/\//i.test(value)) {
    try {
      path = new URL(value).pathname;
    } catch {
      throw new InvalidUploadIdError("not a tus upload URL of this server");
    }
  }
  const last = path.split("?")[0]?.split("/").filter(Boolean).pop() ?? "";
  const dot = last.indexOf(".");
  const id = dot < 0 ? last : last.slice(0, dot);
  const token = dot < 0 ? "" : last.slice(dot + 1);
  if (!isValidId(id) || !/^[A-Za-z0-9_-]{43}$/.test(token)) {
    throw new InvalidUploadIdError("not a tus upload URL of this server: expected /files/<id>.<token>");
  }
  return { id, token };
}
