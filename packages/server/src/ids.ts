import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { InvalidUploadIdError } from "@cleancut/core";

/** Ids are 128 random bits in base64url: unguessable, and safe as a file or object name. */
const idPattern = /^[A-Za-z0-9_-]{22}$/;

export function newId(): string {
  return randomBytes(16).toString("base64url");
}

export function isValidId(value: string): boolean {
  return idPattern.test(value);
}

export function assertValidId(value: string, what = "upload id"): void {
  if (!isValidId(value)) {
    throw new InvalidUploadIdError(`${what} is malformed: expected 22 characters of [A-Za-z0-9_-]`);
  }
}

/** Upload tokens are 256 random bits. Only their SHA-256 is stored. */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** Constant-time comparison of a presented token against a stored hash. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashToken(token), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
