import { isCleancutError, StorageUnavailableError } from "@cleancut/core";
import { withRetries } from "../cancel/backoff.js";
import { hashingCounter } from "./hashing-counter.js";

/**
 * The SHA-256 of the object at `key`, read whole with `read` (which also proves it is `size`
 * bytes long), and its first `headBytes` bytes as read.
 */
export function hashStoredObject(
  read: () => Promise<AsyncIterable<Uint8Array>>,
  key: string,
  size: number,
  signal: AbortSignal,
  headBytes = 0,
): Promise<{ sha256: string; head: Buffer }> {
  return retryingUnavailable(signal, async () => {
    const counter = hashingCounter(size, `video ${key}`);
    const head: Uint8Array[] = [];
    let kept = 0;
    for await (const chunk of counter.transform(await read())) {
      // hashed and counted by the transform
      if (kept < headBytes) {
        const piece = chunk.subarray(0, headBytes - kept);
        head.push(Buffer.from(piece));
        kept += piece.byteLength;
      }
    }
    return { sha256: counter.finish(), head: Buffer.concat(head) };
  });
}

/**
 * For a joined object whose SHA-256 was hashed from the bytes on their way in
 * (`StreamedVideoHasher`): its length as S3 reports it, and its first `headBytes` bytes for
 * the video check, in two small requests where reading it back would move every byte again.
 */
export function checkStreamedObject(
  object: {
    size: () => Promise<number | undefined>;
    readHead: (bytes: number) => Promise<AsyncIterable<Uint8Array>>;
  },
  key: string,
  size: number,
  sha256: string,
  headBytes: number,
  signal: AbortSignal,
): Promise<{ sha256: string; head: Buffer }> {
  return retryingUnavailable(signal, async () => {
    const [stored, head] = await Promise.all([
      object.size(),
      object.readHead(Math.min(size, headBytes)).then(async (body) => {
        const chunks: Uint8Array[] = [];
        for await (const chunk of body) chunks.push(chunk);
        return Buffer.concat(chunks);
      }),
    ]);
    if (stored !== size) {
      throw new StorageUnavailableError(
        `the joined object ${key} holds ${stored ?? "no"} bytes, not ${size}`,
      );
    }
    return { sha256, head };
  });
}

/**
 * Runs `work`, retrying a `storage_unavailable` failure (at most 3 attempts in all); a cancel
 * is reported as its reason. Both checks run after CompleteMultipartUpload, when the
 * multipart upload is gone: a `complete` that failed here could not be retried by the client
 * (its parts no longer list).
 */
function retryingUnavailable<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  const unavailable = (error: unknown) => !isCleancutError(error) || error.code === "storage_unavailable";
  return withRetries(3, { baseMs: 100, maxMs: 1_000 }, work, signal, unavailable).catch((error: unknown) => {
    throw signal.aborted ? (signal.reason ?? error) : error;
  });
}
