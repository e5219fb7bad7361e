import type { CreateUploadResponse } from "@cleancut/core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CleancutServerOptions } from "../src/index.js";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { expectCancelledAndGone } from "./support/expect-gone.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { type SlowSender, startSlowSender } from "./support/slow-sender.js";
import { type StorageSetup, storageSetups } from "./support/storage-setups.js";
import { waitFor } from "./support/wait.js";

const KiB = 1024;
let t: TestServer;
let api: Api;

/**
 * The same cancel scenarios on every way cleancut runs: disk with SQLite or PostgreSQL, and
 * S3 (real Swift) with PostgreSQL, segments proxied through the server or sent straight to S3.
 */
let setup: StorageSetup;
let segmentSize: number;
let base: CleancutServerOptions = {};

beforeEach(async () => {
  base = await setup.setUp();
  t = await startTestServer(base);
  api = new Api(t.url);
});
afterEach(async () => {
  await t.close();
  await removeDir(t.dataDir);
  await setup.tearDown();
});

/** The promise: nothing of the upload in storage, nothing in flight, and a verified report. */
const expectGone = (upload: CreateUploadResponse) =>
  expectCancelledAndGone(t, api, upload, setup.expectNothingStored);

const create = (size: number) => api.create(size, segmentSize, setup.createExtra);

async function putSegments(upload: CreateUploadResponse, file: Uint8Array, indexes: number[]) {
  for (const index of indexes) {
    const response = await setup.send(api, upload, index, sliceSegment(file, segmentSize, index));
    expect(response.status).toBe(201);
  }
}

/** Starts slow senders for `indexes` and waits until the server is writing every one of them. */
async function inFlight(upload: CreateUploadResponse, indexes: number[], sizeOf: (index: number) => number) {
  const senders = indexes.map((index) =>
    startSlowSender(`${t.url}/v1/uploads/${upload.id}/segments/${index}`, upload.token, sizeOf(index), {
      // Slow enough (about 1.3 s per 256 KiB) that no sender can finish while the cancel runs.
      chunkBytes: 4 * KiB,
      intervalMs: 20,
    }),
  );
  await waitFor(
    () => t.server.inflight.count(upload.id) === indexes.length,
    `${indexes.length} writes in flight`,
  );
  await Promise.all(senders.map((sender) => sender.wrote(16 * KiB)));
  return senders;
}

async function expectCutOff(sender: SlowSender, total: number) {
  const outcome = await sender.outcome;
  if (outcome.kind === "response") {
    expect(outcome.status).toBe(410);
    expect(JSON.parse(outcome.body).error.code).toBe("upload_cancelled");
  } else {
    expect(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]).toContain(outcome.code);
  }
  await sender.closed;
  expect(sender.sent()).toBeLessThan(total);
}

describe.each(storageSetups())("on $name", (current) => {
  beforeAll(async () => {
    setup = current;
    segmentSize = current.segmentSize;
    await current.prepare();
  });
  afterAll(async () => {
    await current.finish();
  });
  /**
   * Only where segment bytes pass through the server: there a transfer in flight is the server's
   * to cut off. (Direct mode's parts in flight to S3 are covered in direct-mode.test.ts.)
   */
  const itProxied = (name: string, test: () => Promise<void>) => {
    if (current.proxied) it(name, test);
  };

  describe("DELETE /v1/uploads/:id cancels and verifies", () => {
    it("before any segment", async () => {
      const upload = await create(4 * segmentSize);
      const response = await api.cancel(upload);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: upload.id,
        state: "cancelled",
        deletedSegments: 0,
        deletedBytes: 0,
        remainingSegments: 0,
        verified: true,
      });
      expect(response.body.durationMs).toEqual(expect.any(Number));
      await expectGone(upload);
    });

    it("after one segment", async () => {
      const file = randomFile(4 * segmentSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0]);
      const response = await api.cancel(upload);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ deletedSegments: 1, deletedBytes: segmentSize, verified: true });
      await expectGone(upload);
    });

    it("in the middle, and refuses every later PUT with 410 upload_cancelled", async () => {
      const file = randomFile(6 * segmentSize + 1000);
      const upload = await create(file.length);
      await putSegments(upload, file, [0, 1, 2, 6]);
      const response = await api.cancel(upload);
      expect(response.body).toMatchObject({
        deletedSegments: 4,
        deletedBytes: 3 * segmentSize + 1000,
        verified: true,
      });
      const late = await setup.send(api, upload, 3, sliceSegment(file, segmentSize, 3));
      expect(late.status).toBe(410);
      expect(late.body).toMatchObject({ error: { code: "upload_cancelled" } });
      await expectGone(upload);
    });

    itProxied("with the last segment in flight: the sender is cut off and nothing of it stays", async () => {
      const lastSize = 200 * KiB;
      const file = randomFile(3 * segmentSize + lastSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0, 1, 2]);
      const [sender] = await inFlight(upload, [3], () => lastSize);
      const response = await api.cancel(upload);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ abortedTransfers: 1, deletedSegments: 3, verified: true });
      await expectCutOff(sender!, lastSize);
      await expectGone(upload);
    });

    itProxied("with N slow segment PUTs in flight: all cut off at once", async () => {
      const file = randomFile(8 * segmentSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0]);
      const indexes = [1, 2, 3, 4, 5];
      const senders = await inFlight(upload, indexes, () => segmentSize);
      const started = Date.now();
      const response = await api.cancel(upload);
      const elapsed = Date.now() - started;
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ abortedTransfers: 5, deletedSegments: 1, verified: true });
      // Cut off, not waited for: the senders would need seconds more to finish.
      expect(elapsed).toBeLessThan(5000);
      for (const sender of senders) await expectCutOff(sender, segmentSize);
      await expectGone(upload);
    });

    it("twice in a row returns the same final report", async () => {
      const file = randomFile(2 * segmentSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0, 1]);
      const first = await api.cancel(upload);
      const second = await api.cancel(upload);
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      await expectGone(upload);
    });

    it("twice at once: one cleanup, the same report to both", async () => {
      const file = randomFile(3 * segmentSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0, 1, 2]);
      const deletesBefore = t.faults.calls(setup.deleteCall);
      const [a, b] = await Promise.all([api.cancel(upload), api.cancel(upload)]);
      expect(a.status).toBe(200);
      expect(b.status).toBe(200);
      expect(b.body).toEqual(a.body);
      expect(a.body.deletedSegments).toBe(3);
      // One cleanup: a delete per segment on disk, one discard of the multipart upload on S3.
      expect(t.faults.calls(setup.deleteCall) - deletesBefore).toBe(
        setup.deleteCall === "deleteSegment" ? 3 : 1,
      );
      await expectGone(upload);
    });

    it("racing complete: the cancel wins and the video is not kept", async () => {
      const file = Buffer.concat([
        Buffer.from([0, 0, 0, 0x18]),
        Buffer.from("ftypisom"),
        randomFile(4 * segmentSize),
      ]);
      const upload = await create(file.length);
      await putSegments(upload, file, [0, 1, 2, 3, 4]);
      t.faults.inject("assemble", { kind: "delay", ms: 300 });
      const completing = api.complete(upload);
      await waitFor(async () => (await api.status(upload)).body.state === "completing", "completing");
      const cancel = await api.cancel(upload);
      const complete = await completing;
      expect(cancel.status).toBe(200);
      expect(cancel.body).toMatchObject({ verified: true, abortedTransfers: 1 });
      expect(complete.status).toBe(410);
      expect(complete.body.error.code).toBe("upload_cancelled");
      await expectGone(upload);
    });

    it("a failing storage delete gives 202 with the failure, then verified once it clears", async () => {
      const file = randomFile(3 * segmentSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0, 1, 2]);
      t.faults.inject(setup.deleteCall, { kind: "fail", times: Number.POSITIVE_INFINITY });
      const first = await api.cancel(upload);
      expect(first.status).toBe(202);
      expect(first.body).toMatchObject({ state: "cancelling", verified: false, remainingSegments: 3 });
      // A failure per segment on disk; on S3 the one discard of the multipart upload failed.
      expect(first.body.failures).toHaveLength(setup.deleteCall === "deleteSegment" ? 3 : 1);
      expect(first.body.failures[0]).toMatchObject({ code: "storage_unavailable" });
      expect((await api.status(upload)).body).toMatchObject({
        state: "cancelling",
        cancel: { verified: false },
      });
      // Still refused while cleaning up.
      expect((await setup.send(api, upload, 0, sliceSegment(file, segmentSize, 0))).status).toBe(410);
      t.faults.clear();
      // The reaper retries on its own, with backoff.
      await waitFor(async () => (await api.status(upload)).body.state === "cancelled", "the retried cleanup");
      const final = await api.cancel(upload);
      expect(final.status).toBe(200);
      expect(final.body).toMatchObject({
        verified: true,
        deletedSegments: 3,
        remainingSegments: 0,
        failures: [],
      });
      expect(final.body.attempts).toBeGreaterThanOrEqual(2);
      await expectGone(upload);
    });

    it("a cleanup left unfinished is finished after a restart", async () => {
      const file = randomFile(2 * segmentSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0, 1]);
      t.faults.inject(setup.deleteCall, { kind: "fail", times: Number.POSITIVE_INFINITY });
      expect((await api.cancel(upload)).status).toBe(202);
      await t.close();
      // Same data folder, no fault layer: the new process finds the tombstone and finishes.
      t = await startTestServer({ ...base, dataDir: t.dataDir });
      api = new Api(t.url);
      await waitFor(
        async () => (await api.status(upload)).body.state === "cancelled",
        "cleanup after restart",
      );
      await expectGone(upload);
    });

    it("the reaper cancels uploads past their expiry the same way", async () => {
      await t.close();
      t = await startTestServer({ ...base, dataDir: t.dataDir, uploadTtlMs: 1500 });
      api = new Api(t.url);
      const file = randomFile(2 * segmentSize);
      const upload = await create(file.length);
      await putSegments(upload, file, [0]);
      await waitFor(async () => (await api.status(upload)).body.state === "cancelled", "expiry");
      expect((await api.status(upload)).body.cancel).toMatchObject({
        reason: "expired",
        verified: true,
        deletedSegments: 1,
      });
      await expectGone(upload);
    });

    it("answers 404 for an unknown upload and 401 without a token", async () => {
      const unknown = await api.call("DELETE", "/v1/uploads/AAAAAAAAAAAAAAAAAAAAAA", { token: "x" });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe("upload_not_found");
      const upload = await create(segmentSize);
      expect((await api.call("DELETE", `/v1/uploads/${upload.id}`)).status).toBe(401);
      expect((await api.cancel(upload)).status).toBe(200);
      await expectGone(upload);
    });
  });

  describe("after a cancel", () => {
    it("the upload answers GET with its report until it expired and the retention passed, then 404", async () => {
      await t.close();
      t = await startTestServer({ ...base, dataDir: t.dataDir, uploadTtlMs: 400, finishedRetentionMs: 300 });
      api = new Api(t.url);
      const upload = await create(segmentSize);
      expect((await api.cancel(upload)).status).toBe(200);
      expect((await api.status(upload)).body.state).toBe("cancelled");
      await waitFor(async () => (await api.status(upload)).status === 404, "the record to be forgotten");
    });
  });
});
