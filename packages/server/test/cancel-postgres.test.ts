import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { CreateUploadResponse } from "@cleancut/core";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PostgresUploadRepository } from "../src/repository/postgres-repository.js";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { leftovers, openFdsUnder, removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";

/** The cancel scenarios of cancel.test.ts that lean on the repository most, with metadata in PostgreSQL. */

const KiB = 1024;
const segmentSize = 256 * KiB;
let database: TestDatabase;
let t: TestServer;
let api: Api;

beforeEach(async () => {
  database = await createTestDatabase();
  t = await startTestServer({ databaseUrl: database.url });
  api = new Api(t.url);
});
afterEach(async () => {
  await t?.close();
  if (t !== undefined) await removeDir(t.dataDir);
  await database?.drop();
});

async function expectGone(upload: CreateUploadResponse) {
  expect(await leftovers(t.dataDir, upload.id)).toEqual([]);
  expect(await openFdsUnder(`${t.dataDir}/uploads`)).toEqual([]);
  expect(t.server.inflight.count(upload.id)).toBe(0);
  const status = await api.status(upload);
  expect(status.body.state).toBe("cancelled");
  expect(status.body.cancel).toMatchObject({ verified: true, remainingSegments: 0 });
}

async function putSegments(upload: CreateUploadResponse, file: Uint8Array, indexes: number[]) {
  for (const index of indexes) {
    const response = await api.putSegment(upload, index, sliceSegment(file, segmentSize, index));
    expect(response.status).toBe(201);
  }
}

/** The upload's row as PostgreSQL holds it, read past the server. */
async function rowInDatabase(
  id: string,
): Promise<{ state: string; cancel_report: string | null } | undefined> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT state, cancel_report FROM uploads WHERE id = $1", [id]);
    return rows[0];
  } finally {
    await client.end();
  }
}

describe("cancel with metadata in PostgreSQL", () => {
  it("runs on PostgreSQL, not on a SQLite file in the data folder", async () => {
    expect(t.server.repository).toBeInstanceOf(PostgresUploadRepository);
    expect(await stat(join(t.dataDir, "cleancut.sqlite")).catch(() => undefined)).toBeUndefined();
  });

  it("with segments stored: 200, verified, zero bytes left on disk, tombstone in the database", async () => {
    const file = randomFile(4 * segmentSize + 1000);
    const upload = await api.create(file.length, segmentSize);
    await putSegments(upload, file, [0, 1, 4]);
    const response = await api.cancel(upload);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      state: "cancelled",
      deletedSegments: 3,
      deletedBytes: 2 * segmentSize + 1000,
      remainingSegments: 0,
      verified: true,
    });
    await expectGone(upload);
    const row = await rowInDatabase(upload.id);
    expect(row?.state).toBe("cancelled");
    expect(JSON.parse(row?.cancel_report ?? "null")).toEqual(response.body);
  });

  it("twice at once: one cleanup, the same report to both", async () => {
    const file = randomFile(3 * segmentSize);
    const upload = await api.create(file.length, segmentSize);
    await putSegments(upload, file, [0, 1, 2]);
    const deletesBefore = t.faults.calls("deleteSegment");
    const [a, b] = await Promise.all([api.cancel(upload), api.cancel(upload)]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(t.faults.calls("deleteSegment") - deletesBefore).toBe(3);
    await expectGone(upload);
  });

  it("a failing storage delete gives 202 with the failure, then verified once it clears", async () => {
    const file = randomFile(3 * segmentSize);
    const upload = await api.create(file.length, segmentSize);
    await putSegments(upload, file, [0, 1, 2]);
    t.faults.inject("deleteSegment", { kind: "fail", times: Number.POSITIVE_INFINITY });
    const first = await api.cancel(upload);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ state: "cancelling", verified: false, remainingSegments: 3 });
    expect(first.body.failures).toHaveLength(3);
    expect((await rowInDatabase(upload.id))?.state).toBe("cancelling");
    expect((await api.putSegment(upload, 0, sliceSegment(file, segmentSize, 0))).status).toBe(410);
    t.faults.clear();
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

  it("a cleanup left unfinished is finished after a restart on the same database", async () => {
    const file = randomFile(2 * segmentSize);
    const upload = await api.create(file.length, segmentSize);
    await putSegments(upload, file, [0, 1]);
    t.faults.inject("deleteSegment", { kind: "fail", times: Number.POSITIVE_INFINITY });
    expect((await api.cancel(upload)).status).toBe(202);
    await t.close();
    // Same data folder and database, no fault: the new process finds the tombstone and finishes.
    t = await startTestServer({ dataDir: t.dataDir, databaseUrl: database.url });
    api = new Api(t.url);
    await waitFor(async () => (await api.status(upload)).body.state === "cancelled", "cleanup after restart");
    await expectGone(upload);
    expect((await rowInDatabase(upload.id))?.state).toBe("cancelled");
  });
});
