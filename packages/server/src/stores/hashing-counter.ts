import { createHash } from "node:crypto";
import { BodyIncompleteError, SegmentSizeMismatchError } from "@cleancut/core";

/**
 * Passes bytes through while hashing and counting them, and refuses the byte that would go
 * past `expectedSize`: an oversized body is stopped as it arrives, not after it is stored.
 */
export function hashingCounter(expectedSize: number, label: string) {
  const hash = createHash("sha256");
  let received = 0;
  const update = (chunk: Uint8Array) => {
    received += chunk.byteLength;
    if (received > expectedSize) {
      throw new SegmentSizeMismatchError(`${label} is longer than its ${expectedSize} bytes`, {
        details: { expected: expectedSize, receivedAtLeast: received },
      });
    }
    hash.update(chunk);
  };
  return {
    update,
    async *transform(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
      for await (const chunk of source) {
        update(chunk);
        yield chunk;
      }
    },
    /** Checks the count once the body ended and returns the hex digest. */
    finish(): string {
      if (received < expectedSize) {
        throw new BodyIncompleteError(`${label} ended after ${received} of ${expectedSize} bytes`, {
          details: { expected: expectedSize, received },
        });
      }
      return hash.digest("hex");
    },
    get received() {
      return received;
    },
  };
}
