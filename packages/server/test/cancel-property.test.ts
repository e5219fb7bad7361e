import { segmentByteSize, segmentLayout } from "@cleancut/core";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { leftovers, openFdsUnder, removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { startSlowSender } from "./support/slow-sender.js";
import { waitFor } from "./support/wait.js";

const KiB = 1024;
let t: TestServer;
let api: Api;

beforeAll(async () => {
  t = await startTestServer();
  api = new Api(t.url);
});
afterAll(async () => {
  await t.close();
  await removeDir(t.dataDir);
});

/**
 * Whatever the file size, the segment size, how many segments were stored and how many are
 * streaming at the moment of the cancel: the cancel is verified, the senders are cut off and
 * nothing of the upload is left on disk or held open.
 */
it("cancel at any point leaves nothing behind", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        size: fc.integer({ min: 1, max: 3 * 1024 * KiB }),
        segmentSize: fc.constantFrom(64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB),
        storedFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        inFlight: fc.integer({ min: 0, max: 4 }),
        seed: fc.integer(),
      }),
      async ({ size, segmentSize, storedFraction, inFlight, seed }) => {
        const file = randomFile(size);
        const layout = segmentLayout(size, segmentSize);
        const upload = await api.create(size, segmentSize);
        const order = shuffled(
          Array.from({ length: layout.segmentCount }, (_, i) => i),
          seed,
        );
        const storedCount = Math.floor(storedFraction * layout.segmentCount);
        const stored = order.slice(0, storedCount);
        // Slow senders only for segments big enough to still be streaming when we cancel.
        const streaming = order
          .slice(storedCount)
          .filter((index) => segmentByteSize(layout, index) > 32 * KiB)
          .slice(0, inFlight);
        await Promise.all(
          stored.map((index) => api.putSegment(upload, index, sliceSegment(file, segmentSize, index))),
        );
        const senders = streaming.map((index) =>
          startSlowSender(
            `${t.url}/v1/uploads/${upload.id}/segments/${index}`,
            upload.token,
            segmentByteSize(layout, index),
            {
              chunkBytes: 4 * KiB,
              intervalMs: 10,
            },
          ),
        );
        await waitFor(() => t.server.inflight.count(upload.id) === streaming.length, "writes in flight");

        const response = await api.cancel(upload);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          verified: true,
          remainingSegments: 0,
          deletedSegments: stored.length,
          abortedTransfers: streaming.length,
        });
        for (const sender of senders) {
          const outcome = await sender.outcome;
          if (outcome.kind === "response") expect(outcome.status).toBe(410);
          await sender.closed;
        }
        expect(await leftovers(t.dataDir, upload.id)).toEqual([]);
        expect(await openFdsUnder(`${t.dataDir}/uploads`)).toEqual([]);
        expect(t.server.inflight.count(upload.id)).toBe(0);
      },
    ),
    { numRuns: 60 },
  );
});

function shuffled<T>(items: T[], seed: number): T[] {
  const result = [...items];
  let state = seed >>> 0 || 1;
  for (let i = result.length - 1; i > 0; i--) {
    state = (state * 1664525 + 1013904223) >>> 0;
    const j = state % (i + 1);
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}
