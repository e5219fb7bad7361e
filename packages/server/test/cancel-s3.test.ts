import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, randomFile, sha256Hex, sliceSegment } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { createTestBucket, type TestBucket } from "./support/s3-bucket.js";
import { startSlowSender } from "./support/slow-sender.js";
import { waitFor } from "./support/wait.js";

const MiB = 1024 * 1024;
const segmentSize = 5 * MiB;
let t: TestServer;
let api: Api;
let database: TestDatabase;
let testBucket: TestBucket;

/** The production setup: S3-compatible store (real Swift) and PostgreSQL, over real HTTP. */
beforeAll(async () => {
  testBucket = await createTestBucket("e2e");
  database = await createTestDatabase();
  t = await startTestServer({
    databaseUrl: database.url,
    storage: "s3",
    s3: testBucket.settings,
  });
  api = new Api(t.url);
});
afterAll(async () => {
  await t?.close();
  await removeDir(t?.dataDir ?? "");
  await database?.drop();
  await testBucket?.drop();
});

const expectNothingInBucket = (uploadId: string) => testBucket.expectNothingFor(uploadId);

describe("S3 store + PostgreSQL, end to end", () => {
  it("uploads a real video as multipart parts and completes it in the store", async () => {
    const file = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
    const upload = await api.create(file.length, segmentSize);
    expect((await api.putSegment(upload, 0, file)).status).toBe(201);
    expect((await api.segments(upload)).body).toEqual([
      { index: 0, size: file.length, sha256: sha256Hex(file) },
    ]);
    const done = await api.complete(upload);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      size: file.length,
      sha256: sha256Hex(file),
      probe: { width: 640, height: 360 },
    });
    const content = await fetch(`${t.url}/v1/videos/${done.body.videoId}/content`, {
      headers: { range: "bytes=0-99" },
    });
    expect(content.status).toBe(206);
    expect(Buffer.from(await content.arrayBuffer()).equals(file.subarray(0, 100))).toBe(true);
    expect(
      (await api.call("DELETE", `/v1/videos/${done.body.videoId}`, { token: upload.token })).status,
    ).toBe(204);
  });

  it("refuses segments smaller than S3 allows", async () => {
    const response = await api.call("POST", "/v1/uploads", {
      json: { filename: "a.mp4", size: 20 * MiB, contentType: "video/mp4", segmentSize: MiB },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_segment_size");
  });

  it("cancel with parts stored and parts streaming: senders cut off, multipart upload gone, verified", async () => {
    const file = randomFile(4 * segmentSize);
    const upload = await api.create(file.length, segmentSize);
    for (const index of [0, 1])
      expect((await api.putSegment(upload, index, sliceSegment(file, segmentSize, index))).status).toBe(201);
    const senders = [2, 3].map((index) =>
      startSlowSender(`${t.url}/v1/uploads/${upload.id}/segments/${index}`, upload.token, segmentSize, {
        chunkBytes: 64 * 1024,
        intervalMs: 10,
      }),
    );
    await waitFor(() => t.server.inflight.count(upload.id) === 2, "2 parts streaming");
    const response = await api.cancel(upload);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      verified: true,
      remainingSegments: 0,
      deletedSegments: 2,
      abortedTransfers: 2,
    });
    for (const sender of senders) {
      const outcome = await sender.outcome;
      if (outcome.kind === "response") expect(outcome.status).toBe(410);
      expect(sender.sent()).toBeLessThan(segmentSize);
    }
    await expectNothingInBucket(upload.id);
    expect((await api.status(upload)).body).toMatchObject({ state: "cancelled", cancel: { verified: true } });
  });

  it("a cancel racing complete leaves neither parts nor the object", async () => {
    const file = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from("ftypisom"),
      randomFile(2 * segmentSize),
    ]);
    const upload = await api.create(file.length, segmentSize);
    for (let index = 0; index < upload.segmentCount; index++) {
      expect((await api.putSegment(upload, index, sliceSegment(file, segmentSize, index))).status).toBe(201);
    }
    t.faults.inject("assemble", { kind: "delay", ms: 200 });
    const completing = api.complete(upload);
    await waitFor(async () => (await api.status(upload)).body.state === "completing", "completing");
    const cancel = await api.cancel(upload);
    t.faults.clear();
    expect(cancel.body).toMatchObject({ verified: true });
    expect((await completing).status).toBe(410);
    await expectNothingInBucket(upload.id);
  });
});
