import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OrderedSegmentHasher } from "../src/stores/ordered-segment-hasher.js";

const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Segments kept by their SHA-256, read back in small chunks with a pause, like files. */
function library() {
  const byHash = new Map<string, Buffer>();
  let reads = 0;
  let chunks = 0;
  let inRead = 0;
  const hasher = new OrderedSegmentHasher(async (_uploadId, _index, sha256, update, signal) => {
    const bytes = byHash.get(sha256);
    if (bytes === undefined) throw new Error(`no segment ${sha256}`);
    reads += 1;
    inRead += 1;
    try {
      for (let offset = 0; offset < bytes.length; offset += 1000) {
        await new Promise((resolve) => setImmediate(resolve));
        signal.throwIfAborted();
        chunks += 1;
        update(bytes.subarray(offset, offset + 1000));
      }
    } finally {
      inRead -= 1;
    }
  });
  return {
    hasher,
    reads: () => reads,
    chunks: () => chunks,
    inRead: () => inRead,
    store(uploadId: string, index: number, bytes: Buffer) {
      const sha256 = sha256Of(bytes);
      byHash.set(sha256, bytes);
      hasher.stored(uploadId, index, sha256);
      return { index, sha256 };
    },
  };
}

async function digestOf(
  hasher: OrderedSegmentHasher,
  uploadId: string,
  segments: { index: number; sha256: string }[],
) {
  const prefix = await hasher.prefix(uploadId, segments);
  return { count: prefix?.count, digest: prefix?.hash.digest("hex"), bytes: prefix?.bytes };
}

describe("OrderedSegmentHasher", () => {
  it("whatever order segments arrive in, the prefix is the whole file's hash once all are in", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 8 })
          .chain((count) =>
            fc.tuple(fc.constant(count), fc.shuffledSubarray([...Array(count).keys()], { minLength: count })),
          ),
        async ([count, order]) => {
          const { hasher, store } = library();
          const bytes = [...Array(count)].map((_, index) => randomBytes(1500 + index * 37));
          const segments = [...Array(count)].map(() => ({ index: 0, sha256: "" }));
          for (const index of order) segments[index] = store("u", index, bytes[index] as Buffer);
          const whole = Buffer.concat(bytes);
          expect(await digestOf(hasher, "u", segments)).toEqual({
            count,
            digest: sha256Of(whole),
            bytes: whole.length,
          });
        },
      ),
      { numRuns: 40 },
    );
  });

  it("stops at the first segment not stored yet", async () => {
    const { hasher, store } = library();
    const a = randomBytes(3000);
    const c = randomBytes(3000);
    const segments = [store("u", 0, a), { index: 1, sha256: "not yet" }, store("u", 2, c)];
    expect(await digestOf(hasher, "u", segments)).toEqual({ count: 1, digest: sha256Of(a), bytes: a.length });
  });

  it("a hashed segment stored again with other bytes starts the hash over, and the prefix is of the new bytes", async () => {
    const { hasher, store } = library();
    const first = [randomBytes(2000), randomBytes(2000)];
    store("u", 0, first[0] as Buffer);
    store("u", 1, first[1] as Buffer);
    await hasher.prefix("u", []);
    const replaced = randomBytes(2000);
    const segments = [store("u", 0, replaced), { index: 1, sha256: sha256Of(first[1] as Buffer) }];
    expect(await digestOf(hasher, "u", segments)).toEqual({
      count: 2,
      digest: sha256Of(Buffer.concat([replaced, first[1] as Buffer])),
      bytes: 4000,
    });
  });

  it("gives nothing for segments other than the ones it hashed, after a removal, or once forgotten", async () => {
    const { hasher, store } = library();
    const segments = [store("u", 0, randomBytes(1000)), store("u", 1, randomBytes(1000))];
    expect(
      (await digestOf(hasher, "u", [{ index: 0, sha256: "other" }, segments[1] as never])).count,
    ).toBeUndefined();
    hasher.removed("u", 1);
    expect((await digestOf(hasher, "u", segments)).count).toBe(1);
    await hasher.forget("u");
    expect(await hasher.prefix("u", segments)).toBeUndefined();
    expect(await hasher.prefix("never seen", segments)).toBeUndefined();
  });

  it("each segment is read once, and the prefix handed out is a copy: asking twice gives the same hash", async () => {
    const { hasher, store, reads } = library();
    const bytes = [randomBytes(5000), randomBytes(5000), randomBytes(10)];
    const segments = bytes.map((part, index) => store("u", index, part));
    const once = await digestOf(hasher, "u", segments);
    const twice = await digestOf(hasher, "u", segments);
    expect(twice).toEqual(once);
    expect(once.digest).toBe(sha256Of(Buffer.concat(bytes)));
    expect(reads()).toBe(3);
  });

  it("forget stops a read in progress and resolves only once nothing reads the upload's segments", async () => {
    const { hasher, store, chunks, inRead } = library();
    store("u", 0, randomBytes(1_000_000));
    await new Promise((resolve) => setImmediate(resolve));
    expect(inRead()).toBe(1);
    await hasher.forget("u");
    expect(inRead()).toBe(0);
    expect(chunks()).toBeLessThan(1000);
  });
});
