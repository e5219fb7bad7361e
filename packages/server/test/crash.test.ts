import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUpload, NodeFileSource } from "@cleancut/client/node";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, randomFile, sha256Hex, sliceSegment } from "./support/api.js";
import { leftovers, removeDir } from "./support/harness.js";
import { startServerProcess } from "./support/server-process.js";
import { waitFor } from "./support/wait.js";

const KiB = 1024;
const segmentSize = 64 * KiB;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "cleancut-crash-"));
});
afterAll(async () => {
  await removeDir(dataDir);
});

/**
 * kill -9 of the server process at a random moment of a cancel, then a restart on the same
 * data folder: the end state is always a verified cancel with zero bytes left. If the kill
 * came before the tombstone was committed, the client's DELETE (sent again, as the SDK does)
 * finishes it.
 */
describe("kill -9 mid-cancel, then restart", () => {
  it("always ends verified with nothing left", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 20, max: 120 }),
        async (killAfterMs, segments) => {
          const first = await startServerProcess(["--port", "0", "--data-dir", dataDir]);
          const api = new Api(first.url);
          const file = randomFile(segments * segmentSize);
          const upload = await api.create(file.length, segmentSize);
          await Promise.all(
            Array.from({ length: segments }, (_, index) =>
              api.putSegment(upload, index, sliceSegment(file, segmentSize, index)),
            ),
          );
          const cancel = api.cancel(upload).catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, killAfterMs));
          await first.crash();
          await cancel;

          const second = await startServerProcess(["--port", "0", "--data-dir", dataDir]);
          try {
            const again = new Api(second.url);
            const state = (await again.status(upload)).body.state as string;
            if (state === "uploading") expect((await again.cancel(upload)).status).toBe(200);
            await waitFor(
              async () => (await again.status(upload)).body.state === "cancelled",
              "the cleanup after restart",
            );
            expect((await again.status(upload)).body.cancel).toMatchObject({
              verified: true,
              remainingSegments: 0,
            });
            expect(await leftovers(dataDir, upload.id)).toEqual([]);
          } finally {
            await second.stop();
          }
        },
      ),
      { numRuns: 6 },
    );
    // Each run starts two server processes: minutes, not seconds, on a loaded 2-core machine.
  }, 300_000);
});

describe("kill -9 mid-complete, then restart", () => {
  it("rolls back to uploading and the same upload completes byte-identical", async () => {
    const video = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
    // A large file with a real video's bytes at the front, so the join takes a while.
    const file = Buffer.concat([video, randomFile(48 * 1024 * KiB)]);
    const first = await startServerProcess(["--port", "0", "--data-dir", dataDir, "--no-ffprobe"]);
    const api = new Api(first.url);
    const upload = await api.create(file.length, 4 * 1024 * KiB);
    for (let index = 0; index < upload.segmentCount; index++) {
      expect((await api.putSegment(upload, index, sliceSegment(file, 4 * 1024 * KiB, index))).status).toBe(
        201,
      );
    }
    const completing = api.complete(upload).catch(() => undefined);
    await waitFor(async () => (await api.status(upload)).body.state === "completing", "completing");
    await first.crash();
    await completing;

    const second = await startServerProcess(["--port", "0", "--data-dir", dataDir, "--no-ffprobe"]);
    try {
      const again = new Api(second.url);
      expect((await again.status(upload)).body.state).toBe("uploading");
      // No half-joined file survives the restart.
      expect((await leftovers(dataDir, upload.id)).filter((name) => name.includes(".tmp"))).toEqual([]);
      const done = await again.complete(upload);
      expect(done.status).toBe(200);
      expect(done.body.sha256).toBe(sha256Hex(file));
      expect(
        (await again.call("DELETE", `/v1/videos/${done.body.videoId}`, { token: upload.token })).status,
      ).toBe(204);
      expect(await leftovers(dataDir)).toEqual([]);
    } finally {
      await second.stop();
    }
  }, 180_000);
});

describe("kill -9 mid-upload, then restart", () => {
  it("at any point, the client resumes from the segments the server holds and the video is byte-identical", async () => {
    const video = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
    const file = Buffer.concat([video, randomFile(16 * 1024 * KiB)]);
    const path = join(dataDir, "..", `crash-upload-${Date.now()}.mp4`);
    await writeFile(path, file);
    const options = { segmentSize: 1024 * KiB, concurrency: 4, retries: 0 };
    const segmentCount = Math.ceil(file.length / options.segmentSize);
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: segmentCount - 2 }), async (killAtSegments) => {
          const first = await startServerProcess(["--port", "0", "--data-dir", dataDir, "--no-ffprobe"]);
          const interrupted = createUpload(await NodeFileSource.open(path), {
            ...options,
            endpoint: first.url,
          }).start();
          await waitFor(
            () => interrupted.id !== undefined && interrupted.segmentsDone >= killAtSegments,
            `${killAtSegments} segments stored`,
          );
          await first.crash();
          await expect(interrupted.done).rejects.toMatchObject({ code: "network_error" });
          expect(interrupted.activeRequests).toBe(0);
          const ref = { id: interrupted.id as string, token: interrupted.token as string };

          const second = await startServerProcess(["--port", "0", "--data-dir", dataDir, "--no-ffprobe"]);
          try {
            const again = new Api(second.url);
            const held = (await again.segments(ref as never)).body as unknown[];
            expect(held.length).toBeGreaterThanOrEqual(killAtSegments);
            const resumed = createUpload(await NodeFileSource.open(path), {
              ...options,
              endpoint: second.url,
              resumeFrom: ref,
            }).start();
            const sent: number[] = [];
            resumed.on("segment", (segment) => sent.push(segment.index));
            const done = await resumed.done;
            expect(done.sha256).toBe(sha256Hex(file));
            // Not from zero: what the server held before the crash was not sent again.
            expect(sent.length).toBe(segmentCount - held.length);
            expect(
              (await again.call("DELETE", `/v1/videos/${done.videoId}`, { token: ref.token })).status,
            ).toBe(204);
            // A write cut off by the crash may have left a temp file; the completed upload's cleanup took it.
            expect(await leftovers(dataDir)).toEqual([]);
          } finally {
            await second.stop();
          }
        }),
        { numRuns: 4 },
      );
    } finally {
      await removeDir(path);
    }
  }, 300_000);
});
