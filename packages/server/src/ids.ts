import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { InvalidUploadIdError, InvalidVideoIdError } from "@cleancut/core";

/** Ids are 128 random bits in base64url: unguessable, and safe as a file or object name. */
const idPattern = /^[A-Za-z0-9_-]{22}$/;

export function newId(): string {
  return startingWithAlphanumeric(() => randomBytes(16).toString("base64url"));
}

/**
 * Drawn again while the first character is `-` or `_`: an id or token that starts with `-`
 * reads as an option on a command line (`cleancut status -x… --token -y…` failed to parse, about
 * one run in thirty). Costs well under a tenth of a bit of the 128 or 256.
 */
function startingWithAlphanumeric(draw: () => string): string {
  for (;;) {
    const value = draw();
    if (/^[A-Za-z0-9]/.test(value)) return value;
  }
}

export function isValidId(value: string): boolean {
  return idPattern.test(value);
}

/** Refuses a malformed id with the code of what it names: `invalid_upload_id` or `invalid_video_id`. */
export function assertValidId(value: string, what: "upload id" | "video id" = "upload id"): void {
  if (isValidId(value)) return;
  const message = `${what} is malformed: expected 22 characters of [A-Za-z0-9_-]`;
  throw what === "video id" ? new InvalidVideoIdError(message) : new InvalidUploadIdError(message);
}

/** Upload tokens are 256 random bits. Only their SHA-256 is stored. */
export function newToken(): string {
  return startingWithAlphanumeric(() => randomBytes(32).toString("base64url"));
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
