import { isCleancutError } from "@cleancut/core";
import { backoffDelay, sleep } from "../cancel/backoff.js";
import { hashingCounter } from "./hashing-counter.js";

/**
 * The SHA-256 of the object at `key`, read whole with `read` (which also proves it is `size`
 * bytes long). A `storage_unavailable` failure is retried, at most 3 attempts in all.
 */
export async function hashStoredObject(
  read: () => Promise<AsyncIterable<Uint8Array>>,
  key: string,
  size: number,
  signal: AbortSignal,
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const counter = hashingCounter(size, `video ${key}`);
      for await (const _chunk of counter.transform(await read())) {
        // hashed and counted by the transform
      }
      return counter.finish();
    } catch (error) {
      if (signal.aborted || attempt >= 3 || (isCleancutError(error) && error.code !== "storage_unavailable"))
        throw signal.aborted ? (signal.reason ?? error) : error;
      await sleep(backoffDelay({ baseMs: 100, maxMs: 1_000 }, attempt), signal);
    }
  }
}
