import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { CreateUploadResponse } from "@cleancut/core";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PostgresUploadRepository } from "../src/repository/postgres-repository.js";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { expectCancelledAndGone } from "./support/expect-gone.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";

/**
 * What only PostgreSQL can show: the server really keeps its metadata there, and the tombstone
 * is a row another process can read. (cancel.test.ts runs every cancel scenario on PostgreSQL too.)
 */

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

const expectGone = (upload: CreateUploadResponse) => expectCancelledAndGone(t, api, upload);

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
});
