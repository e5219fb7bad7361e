import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StreamedVideoHasher } from "../src/stores/streamed-video-hasher.js";

const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

interface PlannedWrite {
  index: number;
  bytes: Buffer;
  pieces: number;
  outcome: "stored" | "failed";
}

/** Writes of segments 0..count-1 (some twice, with other bytes; some failing), as a client retrying would. */
const plans = fc.integer({ min: 1, max: 6 }).chain((count) =>
  fc.tuple(
    fc.constant(count),
    fc.array(
      fc.record({
        index: fc.integer({ min: 0, max: count - 1 }),
        bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
        pieces: fc.integer({ min: 1, max: 4 }),
        outcome: fc.constantFrom("stored" as const, "stored" as const, "failed" as const),
      }),
      { minLength: 1, maxLength: 14 },
    ),
  ),
);

/** Every write's steps (start, its pieces, its outcome) in its own order, interleaved at random. */
function steps(writes: readonly PlannedWrite[]) {
  return writes.flatMap((write, w) => [
    { w, step: "start" as const },
    ...Array.from({ length: write.pieces }, (_, piece) => ({ w, step: "push" as const, piece })),
    { w, step: write.outcome },
  ]);
}

function run(
  hasher: StreamedVideoHasher,
  writes: readonly PlannedWrite[],
  order: ReturnType<typeof steps>,
): Map<number, Buffer> {
  const taps = new Map<number, ReturnType<StreamedVideoHasher["tap"]>>();
  /** What storage holds per index: the last stored version. */
  const kept = new Map<number, Buffer>();
  for (const event of order) {
    const write = writes[event.w] as PlannedWrite;
    if (event.step === "start") taps.set(event.w, hasher.tap("u", write.index));
    else if (event.step === "push") {
      const size = Math.ceil(write.bytes.length / write.pieces);
      taps.get(event.w)?.push(write.bytes.subarray(event.piece * size, (event.piece + 1) * size));
    } else if (event.step === "stored") {
      taps.get(event.w)?.stored(sha256Of(write.bytes));
      kept.set(write.index, write.bytes);
    } else taps.get(event.w)?.failed();
  }
  return kept;
}

/** Keeps each write's steps in order while shuffling writes against each other. */
const interleavings = (writes: readonly PlannedWrite[]) =>
  fc.array(fc.nat(), { minLength: steps(writes).length, maxLength: steps(writes).length }).map((keys) => {
    const all = steps(writes).map((step, n) => ({ step, key: keys[n] ?? 0 }));
    const next = new Map<number, number>();
    const byWrite = new Map<number, typeof all>();
    for (const item of all) byWrite.set(item.step.w, [...(byWrite.get(item.step.w) ?? []), item]);
    const order: ReturnType<typeof steps> = [];
    let remaining = all.length;
    let turn = 0;
    while (remaining > 0) {
      const ready = [...byWrite.entries()].filter(([w, items]) => (next.get(w) ?? 0) < items.length);
      const [w, items] = ready[(keys[turn++ % keys.length] ?? 0) % ready.length] as [number, typeof all];
      const position = next.get(w) ?? 0;
      order.push((items[position] as (typeof all)[number]).step);
      next.set(w, position + 1);
      remaining -= 1;
    }
    return order;
  });

describe("StreamedVideoHasher", () => {
  it("a prefix it gives is always the hash of exactly the bytes stored, whatever the order, retries and failures", () => {
    fc.assert(
      fc.property(
        plans.chain(([count, writes]) =>
          fc.tuple(fc.constant(count), fc.constant(writes), interleavings(writes)),
        ),
        ([count, writes, order]) => {
          const hasher = new StreamedVideoHasher();
          const kept = run(hasher, writes, order);
          const segments = [...Array(count).keys()]
            .filter((index) => kept.has(index))
            .map((index) => ({ index, sha256: sha256Of(kept.get(index) as Buffer) }));
          const prefix = hasher.prefix("u", segments);
          if (prefix !== undefined) {
            const bytes = Buffer.concat(
              [...Array(prefix.count).keys()].map((index) => kept.get(index) as Buffer),
            );
            expect(prefix.hash.digest("hex")).toBe(sha256Of(bytes));
            expect(prefix.bytes).toBe(bytes.length);
          }
          hasher.forget("u");
          expect(hasher.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("every segment written once, in any interleaving: the whole video is hashed, nothing left buffered", () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 6 })
          .chain((count) =>
            fc.tuple(
              fc.constant(count),
              fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), {
                minLength: count,
                maxLength: count,
              }),
            ),
          )
          .chain(([count, contents]) => {
            const writes = contents.map((bytes, index) => ({
              index,
              bytes: Buffer.from(bytes),
              pieces: 3,
              outcome: "stored" as const,
            }));
            return fc.tuple(fc.constant(count), fc.constant(writes), interleavings(writes));
          }),
        ([count, writes, order]) => {
          const hasher = new StreamedVideoHasher();
          const kept = run(hasher, writes, order);
          const segments = writes.map((write) => ({ index: write.index, sha256: sha256Of(write.bytes) }));
          const prefix = hasher.prefix("u", segments);
          expect(prefix?.count).toBe(count);
          expect(prefix?.hash.digest("hex")).toBe(
            sha256Of(Buffer.concat(segments.map((s) => kept.get(s.index) as Buffer))),
          );
          expect(hasher.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("over its memory budget it gives up on the upload (the caller hashes the stored video) and frees what it held", () => {
    const hasher = new StreamedVideoHasher(100);
    const first = hasher.tap("u", 0);
    const ahead = hasher.tap("u", 1);
    ahead.push(Buffer.alloc(80));
    expect(hasher.bufferedBytes).toBe(80);
    ahead.push(Buffer.alloc(80));
    expect(hasher.bufferedBytes).toBe(0);
    first.push(Buffer.alloc(10));
    first.stored(sha256Of(Buffer.alloc(10)));
    expect(hasher.prefix("u", [{ index: 0, sha256: sha256Of(Buffer.alloc(10)) }])).toBeUndefined();
  });

  it("an upload over its own budget (its next segment never comes) is given up on alone", () => {
    const hasher = new StreamedVideoHasher(1000, 100);
    const stuck = hasher.tap("stuck", 3);
    stuck.push(Buffer.alloc(90));
    const other = hasher.tap("other", 1);
    other.push(Buffer.alloc(90));
    stuck.push(Buffer.alloc(20));
    expect(hasher.bufferedBytes).toBe(90);
    other.stored(sha256Of(Buffer.alloc(90)));
    const first = hasher.tap("other", 0);
    first.push(Buffer.alloc(5));
    first.stored(sha256Of(Buffer.alloc(5)));
    const segments = [
      { index: 0, sha256: sha256Of(Buffer.alloc(5)) },
      { index: 1, sha256: sha256Of(Buffer.alloc(90)) },
    ];
    expect(hasher.prefix("other", segments)?.hash.digest("hex")).toBe(sha256Of(Buffer.alloc(95)));
    expect(hasher.bufferedBytes).toBe(0);
  });

  it("the segment next in order is hashed as it streams, not copied", () => {
    const hasher = new StreamedVideoHasher();
    const tap = hasher.tap("u", 0);
    tap.push(Buffer.alloc(1000));
    expect(hasher.bufferedBytes).toBe(0);
  });
});
