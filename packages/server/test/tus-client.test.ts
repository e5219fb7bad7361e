import { readFile } from "node:fs/promises";
import fc from "fast-check";
import { type DetailedError, Upload, type UploadOptions } from "tus-js-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leftovers, removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { type ProductionTestServer, startProductionTestServer } from "./support/production-server.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** One place the tus endpoint runs, and how to list what its storage holds. */
interface TusSetup {
  name: string;
  segmentSize: number;
  /** How many random abort points this setup gets (S3 calls are slower). */
  abortRuns: number;
  start(): Promise<{ t: TestServer; stored(): Promise<string[]>; close(): Promise<void> }>;
}

const setups: TusSetup[] = [
  {
    name: "disk + SQLite",
    segmentSize: 256 * KiB,
    abortRuns: 20,
    async start() {
      const t = await startTestServer({ defaultSegmentSize: 256 * KiB, tusUnclaimedTtlMs: 3000 });
      return {
        t,
        stored: () => leftovers(t.dataDir),
        async close() {
          await t.close();
          await removeDir(t.dataDir);
        },
      };
    },
  },
  {
    name: "S3 + PostgreSQL",
    segmentSize: 5 * MiB,
    abortRuns: 8,
    async start() {
      const production: ProductionTestServer = await startProductionTestServer("tus", {
        defaultSegmentSize: 5 * MiB,
        tusUnclaimedTtlMs: 3000,
      });
      return {
        t: production.server,
        stored: () => production.bucket.contents(),
        close: () => production.close(),
      };
    },
  },
];

let video: Buffer;
beforeAll(async () => {
  video = await readFile(process.env.CLEANCUT_TEST_VIDEO_LARGER as string);
});

/** Runs a tus-js-client upload to its end: the upload URL on success, the error otherwise. */
function upload(
  endpoint: string,
  data: Buffer,
  options: Partial<UploadOptions> = {},
): { tus: Upload; done: Promise<string> } {
  let tus: Upload | undefined;
  const done = new Promise<string>((resolve, reject) => {
    tus = new Upload(data, {
      endpoint,
      metadata: { filename: "clip.mp4", filetype: "video/mp4" },
      retryDelays: [0, 100, 300],
      ...options,
      onSuccess: () => resolve(tus?.url as string),
      onError: (error: Error | DetailedError) => reject(error),
    });
    tus.start();
  });
  return { tus: tus as Upload, done };
}

/** The video a finished tus upload made, read back through /v1 with the token from its URL. */
async function videoOf(t: TestServer, url: string): Promise<Buffer> {
  const [id, token] = (new URL(url).pathname.split("/").pop() as string).split(".") as [string, string];
  const auth = { authorization: `Bearer ${token}` };
  const status = (await (await fetch(`${t.url}/v1/uploads/${id}`, { headers: auth })).json()) as {
    state: string;
    videoId: string;
  };
  expect(status.state).toBe("completed");
  const content = await fetch(`${t.url}/v1/videos/${status.videoId}/content`, { headers: auth });
  return Buffer.from(await content.arrayBuffer());
}

describe.each(setups)("tus-js-client 4 against cleancut's tus endpoint on $name", (setup) => {
  let server: Awaited<ReturnType<TusSetup["start"]>>;
  let endpoint: string;
  beforeAll(async () => {
    server = await setup.start();
    endpoint = `${server.t.url}/files/`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("uploads to completion, byte-identical, and terminating it afterwards deletes the video", async () => {
    const { tus, done } = upload(endpoint, video);
    const url = await done;
    expect((await videoOf(server.t, url)).equals(video)).toBe(true);
    // Only the video is left: the segments and the partial segment went when it completed.
    expect(await server.stored()).toHaveLength(1);
    await tus.abort(true);
    await expect.poll(() => server.stored()).toEqual([]);
  });

  it("parallelUploads: 3 (concatenation) completes byte-identical, and leaves only the video", async () => {
    const { tus, done } = upload(endpoint, video, { parallelUploads: 3 });
    const url = await done;
    expect((await videoOf(server.t, url)).equals(video)).toBe(true);
    await tus.abort(true);
    await expect.poll(() => server.stored()).toEqual([]);
  });

  it("resumes an upload aborted without terminating it, from the offset the server holds", async () => {
    const half = video.length / 2;
    let url: string | undefined;
    const first = upload(endpoint, video, {
      chunkSize: 96 * KiB,
      onUploadUrlAvailable: () => {
        url = first.tus.url ?? undefined;
      },
      onChunkComplete: (_size, accepted) => {
        if (accepted >= half) void first.tus.abort(false);
      },
    });
    await expect.poll(() => first.tus.url !== null && url !== undefined).toBe(true);
    await expect
      .poll(
        async () =>
          Number(
            (
              await fetch(url as string, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } })
            ).headers.get("upload-offset"),
          ),
        // Slow on S3 with small chunks: every PATCH rewrites the partial segment object.
        { timeout: 15_000 },
      )
      .toBeGreaterThanOrEqual(half);
    const offsets: number[] = [];
    const second = upload(endpoint, video, {
      uploadUrl: url as string,
      onProgress: (sent) => offsets.push(sent),
    });
    expect(await second.done).toBe(url);
    expect(offsets[0]).toBeGreaterThanOrEqual(half);
    expect((await videoOf(server.t, url as string)).equals(video)).toBe(true);
    await second.tus.abort(true);
    await expect.poll(() => server.stored()).toEqual([]);
  });

  /** Uploads not yet settled (open or still cancelling), operations in flight, and what storage holds. */
  async function settledState() {
    const counts = await server.t.server.repository.countUploadsByState(new AbortController().signal);
    return {
      open: counts.uploading + counts.completing + counts.cancelling,
      inFlight: server.t.server.inflight.totalCount,
      stored: await server.stored(),
    };
  }

  it(`abort(true) at ${setup.abortRuns} random points (during creation, mid-transfer, single and parallel) leaves nothing in storage`, async () => {
    const phases: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          // Where to abort: during the creation request, or once this fraction of bytes was sent.
          at: fc.oneof(fc.constant("creation" as const), fc.double({ min: 0, max: 1, noNaN: true })),
          creationDelayMs: fc.integer({ min: 0, max: 60 }),
          parallel: fc.constantFrom(1, 1, 2, 3),
        }),
        async ({ at, creationDelayMs, parallel }) => {
          const faults = server.t.faults;
          // Slow storage keeps each request in flight long enough to be cut.
          faults.inject("beginUpload", { kind: "delay", ms: 80 });
          faults.inject("writeSegment", { kind: "delay", ms: 10 });
          try {
            // The abort made from onProgress: tus-js-client settles neither onSuccess nor onError
            // after an abort, so the test waits for this instead of the upload's end.
            let abortedMidTransfer: Promise<void> | undefined;
            let abortStarted = () => {};
            const started = new Promise<void>((resolve) => {
              abortStarted = resolve;
            });
            const run = upload(endpoint, video, {
              parallelUploads: parallel,
              onProgress: (sent, total) => {
                if (typeof at !== "number" || sent < at * total || abortedMidTransfer !== undefined) return;
                abortedMidTransfer = run.tus.abort(true);
                abortStarted();
              },
            });
            run.done.catch(() => {});
            if (at === "creation") {
              await new Promise((resolve) => setTimeout(resolve, creationDelayMs));
              phases.push(run.tus.url === null ? "creation (URL unknown)" : "creation (URL known)");
              await run.tus.abort(true);
            } else {
              await Promise.race([run.done, started, new Promise((resolve) => setTimeout(resolve, 5000))]);
              phases.push("transfer");
              await abortedMidTransfer;
              // Again, as a client retrying its termination would: answered the same, nothing new.
              await run.tus.abort(true);
            }
          } finally {
            faults.clear();
          }
          // A create the client walked away from may still be running on the server (storage
          // first, then its record: the 80 ms delay above plus one storage call), after which the
          // server cancels it itself. Past that, every upload this run made is settled and every
          // byte of it gone from storage, as storage lists it.
          await new Promise((resolve) => setTimeout(resolve, 1000));
          await expect
            .poll(settledState, { timeout: 8000, interval: 100 })
            .toEqual({ open: 0, inFlight: 0, stored: [] });
        },
      ),
      {
        numRuns: setup.abortRuns,
        endOnFailure: true,
        // Both creation cases every time, single and parallel, whatever the random points are.
        examples: [
          [{ at: "creation", creationDelayMs: 0, parallel: 1 }],
          [{ at: "creation", creationDelayMs: 40, parallel: 3 }],
        ],
      },
    );
    expect(phases.some((phase) => phase.startsWith("creation"))).toBe(true);
  });
});
