import { InvalidMetadataError, type UploadMetadata } from "@cleancut/core";

/** The most an upload's metadata may weigh, as UTF-8 JSON: it travels with every event. */
export const maxMetadataBytes = 4096;
export const maxMetadataKeyLength = 64;

/**
 * Checks metadata from a caller (`what` names it in the message): a plain JSON object whose
 * values are strings, keys 1–64 characters, at most 4 KiB as JSON. Anything else is 400
 * `invalid_metadata`, before anything is created.
 */
export function validateMetadata(value: unknown, what = "metadata"): UploadMetadata {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidMetadataError(`${what} must be a JSON object of strings`);
  }
  const metadata: UploadMetadata = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.length < 1 || key.length > maxMetadataKeyLength) {
      throw new InvalidMetadataError(
        `${what} keys must be 1 to ${maxMetadataKeyLength} characters, got ${JSON.stringify(key.slice(0, 80))}`,
      );
    }
    if (typeof item !== "string") {
      throw new InvalidMetadataError(`${what}.${key} must be a string, got ${describe(item)}`);
    }
    metadata[key] = item;
  }
  return assertMetadataSize(metadata, what);
}

/** The size rule alone (e.g. for the request's metadata merged with the application's). */
export function assertMetadataSize(metadata: UploadMetadata, what = "metadata"): UploadMetadata {
  const bytes = Buffer.byteLength(JSON.stringify(metadata));
  if (bytes > maxMetadataBytes) {
    throw new InvalidMetadataError(
      `${what} is ${bytes} bytes as JSON; at most ${maxMetadataBytes} are allowed`,
      {
        details: { bytes, limit: maxMetadataBytes },
      },
    );
  }
  return metadata;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
