import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { removeDir } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { createTestBucket, type TestBucket } from "./support/s3-bucket.js";
import { startServerProcess } from "./support/server-process.js";
import { waitFor } from "./support/wait.js";

const MiB = 1024 * 1024;
const segmentSize = 5 * MiB;
let testBucket: TestBucket | undefined;
let database: TestDatabase | undefined;
let dataDir: string;

/** The production setup in its own process: `--store s3` (real Swift bucket) + PostgreSQL. */
beforeAll(async () => {
  testBucket = await createTestBucket("crash");
  database = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), "cleancut-crash-s3-"));
  // `cleancut serve` reads S3 credentials from the environment only; the child inherits these.
  process.env.CLEANCUT_S3_ACCESS_KEY_ID = testBucket.settings.accessKeyId;
  process.env.CLEANCUT_S3_SECRET_ACCESS_KEY = testBucket.settings.secretAccessKey;
});
afterAll(async () => {
  await database?.drop();
  await removeDir(dataDir ?? "");
  await testBucket?.drop();
});

function serveS3() {
  const s3 = (testBucket as TestBucket).settings;
  return startServerProcess([
    "--port",
    "0",
    "--data-dir",
    dataDir,
    "--store",
    "s3",
    "--s3-bucket",
    s3.bucket,
    "--s3-endpoint",
    s3.endpoint as string,
    "--s3-region",
    s3.region,
    "--database",
    (database as TestDatabase).url,
  ]);
}

const expectNothingInBucket = (uploadId: string) => (testBucket as TestBucket).expectNothingFor(uploadId);

/**
 * crash.test.ts's property on the production setup: kill -9 of the server process at a random
 * moment of a cancel (the multipart abort against S3 and the PostgreSQL tombstone are both in
 * that window), then a restart on the same bucket and database. The end state is always a
 * verified cancel with nothing in the bucket for that upload. If the kill came before the
 * tombstone was committed, the client's DELETE (sent again, as the SDK does) finishes it.
 */
describe("S3 + PostgreSQL: kill -9 mid-cancel, then restart", () => {
  it("always ends cancelled, verified, and with the bucket empty for the upload", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 4, max: 8 }),
        async (killAfterMs, segments) => {
          const first = await serveS3();
          let upload: Awaited<ReturnType<Api["create"]>>;
          try {
            const api = new Api(first.url);
            const file = randomFile(segments * segmentSize);
            upload = await api.create(file.length, segmentSize);
            const stored = await Promise.all(
              Array.from({ length: segments }, (_, index) =>
                api.putSegment(upload, index, sliceSegment(file, segmentSize, index)),
              ),
            );
            expect(stored.map((response) => response.status)).toEqual(Array(segments).fill(201));
            const cancel = api.cancel(upload).catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, killAfterMs));
            await first.crash();
            await cancel;
          } finally {
            await first.crash();
          }

          const second = await serveS3();
          try {
            const again = new Api(second.url);
            const state = (await again.status(upload)).body.state as string;
            if (state === "uploading") expect((await again.cancel(upload)).status).toBe(200);
            await waitFor(
              async () => (await again.status(upload)).body.state === "cancelled",
              "the cleanup after restart",
              30_000,
            );
            expect((await again.status(upload)).body.cancel).toMatchObject({
              verified: true,
              remainingSegments: 0,
            });
            await expectNothingInBucket(upload.id);
          } finally {
            await second.stop();
          }
        },
      ),
      { numRuns: 5 },
    );
  }, 240_000);
});
