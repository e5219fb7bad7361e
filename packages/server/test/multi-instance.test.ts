import { ListMultipartUploadsCommand, type S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepLockKey } from "../src/cluster/postgres-coordination.js";
import type { CleancutServerOptions } from "../src/index.js";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { createTestBucket, type TestBucket } from "./support/s3-bucket.js";
import { startSlowSender } from "./support/slow-sender.js";
import { waitFor } from "./support/wait.js";

const MiB = 1024 * 1024;
const segmentSize = 5 * MiB;
let testBucket: TestBucket;
/** Short enough for a test: a write of a dead instance stops holding a cancel after 1.5 s. */
const cluster = { heartbeatMs: 100, staleAfterMs: 1_500, drainTimeoutMs: 1_000 };

let client: S3Client;
let database: TestDatabase;
let sql: pg.Client;
let shared: CleancutServerOptions;
const servers: TestServer[] = [];
let a: TestServer;
let b: TestServer;
let apiA: Api;
let apiB: Api;

async function start(extra: CleancutServerOptions = {}): Promise<TestServer> {
  const server = await startTestServer({ ...shared, ...extra });
  servers.push(server);
  return server;
}

/** Two instances, each with its own data folder, on the same PostgreSQL and the same bucket (real Swift). */
beforeAll(async () => {
  testBucket = await createTestBucket("multi");
  client = testBucket.client;
  database = await createTestDatabase();
  sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  shared = {
    databaseUrl: database.url,
    storage: "s3",
    s3: testBucket.settings,
    cluster,
  };
  a = await start();
  b = await start();
  apiA = new Api(a.url);
  apiB = new Api(b.url);
});

afterAll(async () => {
  for (const server of servers) {
    await server.close();
    await removeDir(server.dataDir);
  }
  await sql?.end();
  await database?.drop();
  await testBucket?.drop();
});

const expectNothingInBucket = (uploadId: string) => testBucket.expectNothingFor(uploadId);

async function ledgerRows(uploadId: string): Promise<number> {
  const { rows } = await sql.query("SELECT 1 FROM inflight_writes WHERE upload_id = $1", [uploadId]);
  return rows.length;
}

/** A write of a live instance ('stuck', heartbeat fresh) that never ends until the test deletes its row. */
async function insertLiveWrite(uploadId: string, writeId: string): Promise<void> {
  await sql.query(
    `INSERT INTO server_instances (instance_id, started_at, heartbeat_at) VALUES ('stuck', 0, $1)
     ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
    [Date.now()],
  );
  await sql.query(
    "INSERT INTO inflight_writes (id, upload_id, instance_id, started_at) VALUES ($1, $2, 'stuck', 0)",
    [writeId, uploadId],
  );
}

function sum(method: Parameters<TestServer["faults"]["calls"]>[0]): number {
  return servers.reduce((total, server) => total + server.faults.calls(method), 0);
}

describe("several instances sharing PostgreSQL and one bucket", () => {
  it("a cancel on A cuts off a part streaming into B and purges only after B's write is gone", async () => {
    const file = randomFile(3 * segmentSize);
    const upload = await apiA.create(file.length, segmentSize);
    expect((await apiB.putSegment(upload, 0, sliceSegment(file, segmentSize, 0))).status).toBe(201);
    const sender = startSlowSender(`${b.url}/v1/uploads/${upload.id}/segments/1`, upload.token, segmentSize, {
      chunkBytes: 64 * 1024,
      intervalMs: 10,
    });
    await waitFor(() => b.server.inflight.count(upload.id) === 1, "the part streaming into B");
    await waitFor(async () => (await ledgerRows(upload.id)) === 1, "B's write in the shared ledger");
    await sender.wrote(MiB);

    const response = await apiA.cancel(upload);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      verified: true,
      remainingSegments: 0,
      deletedSegments: 1,
      abortedTransfers: 1,
      attempts: 1,
      failures: [],
    });
    const outcome = await sender.outcome;
    if (outcome.kind === "response") expect(outcome.status).toBe(410);
    expect(sender.sent()).toBeLessThan(segmentSize);
    expect(b.server.inflight.count(upload.id)).toBe(0);
    expect(await ledgerRows(upload.id)).toBe(0);
    await expectNothingInBucket(upload.id);

    const late = await apiB.putSegment(upload, 2, sliceSegment(file, segmentSize, 2));
    expect(late.status).toBe(410);
    expect((late.body as { error: { code: string } }).error.code).toBe("upload_cancelled");
    expect((await apiB.status(upload)).body).toMatchObject({
      state: "cancelled",
      cancel: { verified: true },
    });
    await expectNothingInBucket(upload.id);
  });

  it("cancels arriving at A and B at once both end verified, with nothing left", async () => {
    const file = randomFile(2 * segmentSize);
    const upload = await apiA.create(file.length, segmentSize);
    expect((await apiA.putSegment(upload, 0, sliceSegment(file, segmentSize, 0))).status).toBe(201);
    const sender = startSlowSender(
      `${b.url}/v1/uploads/${upload.id}/segments/1`,
      upload.token,
      file.length - segmentSize,
      {
        chunkBytes: 64 * 1024,
        intervalMs: 10,
      },
    );
    await waitFor(async () => (await ledgerRows(upload.id)) === 1, "B's write in the shared ledger");
    const [fromA, fromB] = await Promise.all([apiA.cancel(upload), apiB.cancel(upload)]);
    for (const response of [fromA, fromB]) {
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ verified: true, remainingSegments: 0 });
    }
    await sender.outcome;
    expect(sender.sent()).toBeLessThan(file.length - segmentSize);
    expect(b.server.inflight.count(upload.id)).toBe(0);
    await expectNothingInBucket(upload.id);
  });

  it("a write of a crashed instance (stale heartbeat) does not hold a cancel up", async () => {
    const upload = await apiA.create(2 * segmentSize, segmentSize);
    // An instance that died mid-write: its row stays, its heartbeat stopped long ago.
    await sql.query(
      "INSERT INTO server_instances (instance_id, started_at, heartbeat_at) VALUES ('dead', 0, $1)",
      [Date.now() - 60_000],
    );
    await sql.query(
      "INSERT INTO inflight_writes (id, upload_id, instance_id, started_at) VALUES ('w-dead', $1, 'dead', 0)",
      [upload.id],
    );
    const response = await apiA.cancel(upload);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ verified: true, attempts: 1 });
    // A live writer would have made this a 202 writes_in_flight (next test): the dead one was ignored.
    expect(await ledgerRows(upload.id)).toBe(0);
    await expectNothingInBucket(upload.id);
  });

  it("a write of a live instance that does not stop: 202 after the bounded wait, verified once it is gone", async () => {
    const upload = await apiA.create(2 * segmentSize, segmentSize);
    await insertLiveWrite(upload.id, "w-stuck");
    const response = await apiA.cancel(upload);
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      verified: false,
      state: "cancelling",
      deletedSegments: 0,
      failures: [{ code: "writes_in_flight" }],
    });
    // Nothing purged yet: the multipart upload is still there while the write might be.
    const pending = await client.send(
      new ListMultipartUploadsCommand({ Bucket: testBucket.name, Prefix: `videos/${upload.id}` }),
    );
    expect(pending.Uploads ?? []).toHaveLength(1);
    await sql.query("DELETE FROM inflight_writes WHERE id = 'w-stuck'");
    await waitFor(
      async () => (await apiA.status(upload)).body.state === "cancelled",
      "the reaper's retry to verify the cleanup",
    );
    const status = await apiB.status(upload);
    expect(status.body.cancel).toMatchObject({ verified: true });
    expect(status.body.cancel.attempts).toBeGreaterThanOrEqual(2);
    await expectNothingInBucket(upload.id);
    await sql.query("DELETE FROM server_instances WHERE instance_id IN ('stuck', 'dead')");
  });

  it("an attempt another instance runs meanwhile is counted in the report, not overwritten", async () => {
    // C waits longer for writes than A: its attempt is still waiting when A's ends with a 202.
    // (B's reaper may run an attempt of its own meanwhile: the counts below are lower bounds.)
    const c = await start({ cluster: { ...cluster, drainTimeoutMs: 8_000 }, sweepIntervalMs: 3_600_000 });
    const upload = await apiA.create(2 * segmentSize, segmentSize);
    await insertLiveWrite(upload.id, "w-stuck-2");
    const fromA = apiA.cancel(upload);
    await waitFor(async () => (await apiB.status(upload)).body.state === "cancelling", "the tombstone");
    const fromC = c.server.cancels.resumeCleanup(upload.id);
    expect((await fromA).body).toMatchObject({ verified: false, state: "cancelling" });
    await sql.query("DELETE FROM inflight_writes WHERE id = 'w-stuck-2'");
    // C's attempt began from the tombstone's report (0 attempts): A's 202 is counted, not lost.
    const report = await fromC;
    expect(report).toMatchObject({ verified: true, remainingSegments: 0 });
    expect(report.attempts).toBeGreaterThanOrEqual(2);
    expect((await apiB.status(upload)).body.cancel).toMatchObject({
      verified: true,
      attempts: report.attempts,
    });
    await expectNothingInBucket(upload.id);
    await sql.query("DELETE FROM server_instances WHERE instance_id = 'stuck'");
  });

  it("B still hears cancels after its LISTEN connection dropped and came back", async () => {
    const coordination = b.server.coordination as unknown as {
      dropListenConnection(): void;
      listening: boolean;
    };
    coordination.dropListenConnection();
    expect(coordination.listening).toBe(false);
    await waitFor(() => coordination.listening, "B to LISTEN again");
    const upload = await apiA.create(2 * segmentSize, segmentSize);
    const sender = startSlowSender(`${b.url}/v1/uploads/${upload.id}/segments/0`, upload.token, segmentSize, {
      chunkBytes: 64 * 1024,
      intervalMs: 10,
    });
    await waitFor(async () => (await ledgerRows(upload.id)) === 1, "B's write in the shared ledger");
    const response = await apiA.cancel(upload);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ verified: true, abortedTransfers: 1 });
    await sender.outcome;
    expect(sender.sent()).toBeLessThan(segmentSize);
    expect(b.server.inflight.count(upload.id)).toBe(0);
    await expectNothingInBucket(upload.id);
  });

  it("the reaper sweeps on one instance at a time: each expired upload is cancelled exactly once", async () => {
    // Two more instances whose uploads expire fast; all four reapers sweep every 20-50 ms.
    const c = await start({ uploadTtlMs: 6_000, sweepIntervalMs: 20 });
    const d = await start({ uploadTtlMs: 6_000, sweepIntervalMs: 20 });
    const apiC = new Api(c.url);
    const discardsBefore = sum("discardUpload");
    const listsBefore = sum("listSegments");
    const verificationsBefore = sum("listRemnants");
    const uploads = await Promise.all(
      [apiC, new Api(d.url), apiC].map((api) => api.create(2 * segmentSize, segmentSize)),
    );
    const puts = await Promise.all(
      uploads.map((upload) => apiA.putSegment(upload, 0, randomFile(segmentSize))),
    );
    expect(puts.map((put) => put.status)).toEqual([201, 201, 201]);
    for (const upload of uploads) {
      await waitFor(
        async () => (await apiB.status(upload)).body.state === "cancelled",
        `upload ${upload.id} to expire and be cleaned up`,
      );
      const report = (await apiA.status(upload)).body.cancel;
      expect(report).toMatchObject({ verified: true, reason: "expired", attempts: 1, deletedSegments: 1 });
      await expectNothingInBucket(upload.id);
    }
    // One cleanup per upload across all four instances: one listing, one discard, whose own
    // listing after its deletes is the verification (S3), so no second one.
    expect(sum("listSegments") - listsBefore).toBe(uploads.length);
    expect(sum("discardUpload") - discardsBefore).toBe(uploads.length);
    expect(sum("listRemnants") - verificationsBefore).toBe(0);
  });

  it("a sweep is skipped while another instance holds the sweep lock", async () => {
    const upload = await apiA.create(2 * segmentSize, segmentSize);
    await sql.query("SELECT pg_advisory_lock($1)", [sweepLockKey]);
    try {
      await sql.query("UPDATE uploads SET expires_at = 0 WHERE id = $1", [upload.id]);
      // Expired, and four reapers sweeping every 20-50 ms: none may sweep while the lock is held.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect((await apiA.status(upload)).body.state).toBe("uploading");
    } finally {
      await sql.query("SELECT pg_advisory_unlock($1)", [sweepLockKey]);
    }
    await waitFor(
      async () => (await apiA.status(upload)).body.state === "cancelled",
      "the sweep after unlock",
    );
    expect((await apiB.status(upload)).body.cancel).toMatchObject({ verified: true, attempts: 1 });
    await expectNothingInBucket(upload.id);
  });

  it("an instance that cannot heartbeat stops its own writes before others may treat it as dead", async () => {
    const e = await start({ cluster: { heartbeatMs: 50, staleAfterMs: 600, drainTimeoutMs: 1_000 } });
    const apiE = new Api(e.url);
    const upload = await apiE.create(2 * segmentSize, segmentSize);
    const sender = startSlowSender(`${e.url}/v1/uploads/${upload.id}/segments/0`, upload.token, segmentSize, {
      chunkBytes: 64 * 1024,
      intervalMs: 10,
    });
    await waitFor(async () => (await ledgerRows(upload.id)) === 1, "E's write in the shared ledger");
    // The heartbeat table locked: every heartbeat hangs, as with a database out of reach.
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("LOCK TABLE server_instances IN ACCESS EXCLUSIVE MODE");
      const outcome = await sender.outcome;
      if (outcome.kind === "response") expect(outcome.status).toBe(503);
      expect(sender.sent()).toBeLessThan(segmentSize);
      expect(e.server.inflight.count(upload.id)).toBe(0);
      expect((await apiE.putSegment(upload, 1, randomFile(segmentSize))).status).toBe(503);
    } finally {
      await blocker.query("ROLLBACK");
      await blocker.end();
    }
    await waitFor(
      async () => (await apiE.putSegment(upload, 1, randomFile(segmentSize))).status === 201,
      "E to write again once its heartbeat is back",
    );
    expect((await apiA.cancel(upload)).body).toMatchObject({ verified: true });
    await expectNothingInBucket(upload.id);
  });
});
