import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUpload, NodeFileSource } from "@cleancut/client/node";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { faultInjectingRepository, SqliteUploadRepository } from "../src/index.js";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { expectCancelledAndGone } from "./support/expect-gone.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";

const KiB = 1024;
const segmentSize = 256 * KiB;
let t: TestServer;
let api: Api;
let repository: ReturnType<typeof faultInjectingRepository>;

/** The real SQLite repository behind a fault layer, under a real server. */
beforeEach(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "cleancut-dbfault-"));
  repository = faultInjectingRepository(new SqliteUploadRepository(join(dataDir, "cleancut.sqlite")));
  t = await startTestServer({ dataDir, repository });
  api = new Api(t.url);
});
afterEach(async () => {
  await t.close();
  await removeDir(t.dataDir);
});

describe("metadata repository faults", () => {
  it("the database fails while a cancel starts, then comes back: the SDK's cancel retries and ends verified", async () => {
    const path = join(t.dataDir, "..", `dbfault-${Date.now()}.bin`);
    await writeFile(
      path,
      Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from("ftypisom"), randomFile(8 * segmentSize)]),
    );
    try {
      const upload = createUpload(await NodeFileSource.open(path), {
        endpoint: t.url,
        segmentSize,
        concurrency: 2,
        retryDelay: { baseMs: 50, maxMs: 200 },
      });
      t.faults.inject("writeSegment", { kind: "delay", ms: 100 });
      upload.start();
      while (upload.segmentsDone < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      // The tombstone cannot be written twice in a row.
      repository.faults.inject("transition", { kind: "fail", times: 2 });
      const report = await upload.cancel();
      expect(report).toMatchObject({ verified: true, remainingSegments: 0 });
      expect(repository.faults.calls("transition")).toBeGreaterThanOrEqual(3);
      expect(upload.activeRequests).toBe(0);
      await expectCancelledAndGone(t, api, {
        id: upload.id as string,
        token: upload.token as string,
      } as never);
    } finally {
      await removeDir(path);
    }
  });

  it("a segment stored whose record could not be written: 5xx, and a cancel still finds and deletes its bytes", async () => {
    const file = randomFile(3 * segmentSize);
    const upload = await api.create(file.length, segmentSize);
    repository.faults.inject("recordSegment", { kind: "fail", times: 1 });
    const failed = await api.putSegment(upload, 0, sliceSegment(file, segmentSize, 0));
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(failed.body.error.code).toEqual(expect.any(String));
    // Storage is the truth for cleanup, not the database.
    const cancel = await api.cancel(upload);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ verified: true, remainingSegments: 0 });
    await expectCancelledAndGone(t, api, upload);
  });

  it("a slow database (150 ms a call) slows a cancel down but it still ends verified", async () => {
    const file = randomFile(4 * segmentSize);
    const upload = await api.create(file.length, segmentSize);
    for (const index of [0, 1, 2]) {
      expect((await api.putSegment(upload, index, sliceSegment(file, segmentSize, index))).status).toBe(201);
    }
    for (const method of ["getUpload", "transition", "patchUpload", "forgetAllSegments"] as const) {
      repository.faults.inject(method, { kind: "delay", ms: 150 });
    }
    const cancel = await api.cancel(upload);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ verified: true, deletedSegments: 3 });
    repository.faults.clear();
    await expectCancelledAndGone(t, api, upload);
  });
});
