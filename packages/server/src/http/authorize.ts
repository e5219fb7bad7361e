import type { IncomingHttpHeaders } from "node:http";
import {
  AuthorizerUnavailableError,
  isCleancutError,
  RejectedByAppError,
  type UploadMetadata,
} from "@cleancut/core";
import { validateMetadata } from "./metadata.js";

/** What the server POSTs (as JSON) to the application's authorizer before creating an upload. */
export interface AuthorizerRequest {
  filename: string;
  size: number;
  contentType: string;
  /** The caller's metadata (`{}` when none). */
  metadata: UploadMetadata;
  protocol: "v1" | "tus";
  /** tus concatenation only: a `partial` upload (a piece) or the `final` one that joins them. */
  concat?: "partial" | "final";
  /** The caller's headers on the allow-list (lower-case names), e.g. its cookie or bearer token. */
  headers: Record<string, string>;
}

/** What a 2xx answer may set. Every field is optional: `{}` (or an empty body) just allows. */
export interface AuthorizerDecision {
  owner?: string;
  metadata?: UploadMetadata;
  maxSize?: number;
}

export interface AuthorizerSettings {
  url: string;
  timeoutMs: number;
}

/** A 2xx answer larger than this is not an authorizer's answer; a 4xx body is cut to its first bytes. */
const maxAnswerBytes = 64 * 1024;
/** A refusal's message reaches the uploader: bounded, one line. */
const maxMessageLength = 500;
const maxOwnerLength = 255;

/**
 * Asks the application whether this upload may be created. Resolves with its decision (2xx);
 * rejects with `rejected_by_app` carrying the application's 4xx status and message, or with
 * `authorizer_unavailable` (503) when it times out, cannot be reached, fails (5xx, a redirect)
 * or answers something unusable. Never waits longer than `timeoutMs`, body included; `signal`
 * (the caller going away) aborts it too.
 */
export async function askAuthorizer(
  settings: AuthorizerSettings,
  body: AuthorizerRequest,
  signal: AbortSignal,
): Promise<AuthorizerDecision> {
  const timeout = AbortSignal.timeout(settings.timeoutMs);
  const combined = AbortSignal.any([signal, timeout]);
  let status: number;
  let text: string;
  try {
    const response = await fetch(settings.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(body),
      // A redirect would resend the declaration (and the caller's cookie) somewhere else.
      redirect: "error",
      signal: combined,
    });
    status = response.status;
    text = await readBounded(response, maxAnswerBytes);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if (timeout.aborted) {
      throw new AuthorizerUnavailableError(
        `the application's authorizer did not answer within ${settings.timeoutMs} ms`,
        { cause: error },
      );
    }
    throw new AuthorizerUnavailableError("the application's authorizer could not be reached", {
      cause: error,
    });
  }
  if (status >= 200 && status < 300) return parseDecision(text);
  if (status >= 400 && status < 500) {
    throw new RejectedByAppError(refusalMessage(text, status), { status, details: { status } });
  }
  throw new AuthorizerUnavailableError(`the application's authorizer answered ${status}`, {
    details: { status },
  });
}

/** The caller's headers the application may see: only the allow-listed ones. */
export function forwardedHeaders(
  headers: IncomingHttpHeaders,
  allowList: readonly string[],
): Record<string, string> {
  const forwarded: Record<string, string> = {};
  for (const name of allowList) {
    const value = headers[name.toLowerCase()];
    if (value === undefined) continue;
    forwarded[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return forwarded;
}

function parseDecision(text: string): AuthorizerDecision {
  if (text.trim() === "") return {};
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch (error) {
    throw unusable("it is not JSON", error);
  }
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) {
    throw unusable("it is not a JSON object");
  }
  const { owner, metadata, maxSize } = answer as Record<string, unknown>;
  const decision: AuthorizerDecision = {};
  if (owner !== undefined && owner !== null) {
    if (typeof owner !== "string" || owner.length < 1 || owner.length > maxOwnerLength) {
      throw unusable(`owner must be a string of 1 to ${maxOwnerLength} characters`);
    }
    decision.owner = owner;
  }
  if (metadata !== undefined && metadata !== null) {
    try {
      decision.metadata = validateMetadata(metadata, "its metadata");
    } catch (error) {
      throw unusable(isCleancutError(error) ? error.message : "its metadata is invalid", error);
    }
  }
  if (maxSize !== undefined && maxSize !== null) {
    if (typeof maxSize !== "number" || !Number.isSafeInteger(maxSize) || maxSize < 0) {
      throw unusable("maxSize must be a whole number of bytes");
    }
    decision.maxSize = maxSize;
  }
  return decision;
}

/** The application's bug, not the uploader's: a 503 the operator sees in the log. */
function unusable(why: string, cause?: unknown): AuthorizerUnavailableError {
  return new AuthorizerUnavailableError(
    `the application's authorizer gave an answer this server cannot use: ${why}`,
    {
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** `{message}`, `{error:{message}}`, `{error:"…"}` or the plain text, as one bounded line. */
function refusalMessage(text: string, status: number): string {
  let message = text;
  try {
    const answer = JSON.parse(text) as { message?: unknown; error?: unknown };
    const error = answer?.error as { message?: unknown } | string | undefined;
    const candidate =
      typeof answer?.message === "string"
        ? answer.message
        : typeof error === "string"
          ? error
          : typeof error?.message === "string"
            ? error.message
            : "";
    message = candidate;
  } catch {
    // Not JSON: the text itself is the message.
  }
  const line = oneLine(message);
  if (line === "") return `the application refused this upload (${status})`;
  return line.length > maxMessageLength ? `${line.slice(0, maxMessageLength - 1)}…` : line;
}

/** Control characters (line breaks included) become single spaces. */
function oneLine(text: string): string {
  let line = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    line += code < 0x20 || code === 0x7f ? " " : char;
  }
  return line.replace(/ {2,}/g, " ").trim();
}

/** The body as text, at most `limit` bytes (the rest is not read). */
async function readBounded(response: Response, limit: number): Promise<string> {
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      length += value.byteLength;
      if (length >= limit) break;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}
