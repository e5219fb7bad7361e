import { createHash, randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { CreateUploadResponse } from "@cleancut/core";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type OrphanReport, reconcileOrphans } from "../src/gc/orphan-reconciler.js";
import { newId } from "../src/ids.js";
import { segmentFileName, tempFileName } from "../src/stores/disk-names.js";
import { Api } from "./support/api.js";
import { filesUnder, removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { createTestBucket, type TestBucket } from "./support/s3-bucket.js";
import { waitFor } from "./support/wait.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const never = new AbortController().signal;

/** One store + repository combination, and how to plant orphans in it for real. */
interface Setup {
  name: string;
  segmentSize: number;
  /** Disk files a video under its video id; S3 keeps it at its upload's key, so an unknown one has no record. */
  videoOrphanReason: "no_video_row" | "no_record";
  prepare(): Promise<void>;
  start(extra?: Record<string, unknown>): Promise<TestServer>;
  tearDown(t: TestServer): Promise<void>;
  finish(): Promise<void>;
  /** Deletes the upload's row (and its segment rows) straight in the database. */
  deleteRow(t: TestServer, id: string): Promise<void>;
  /** Storage for an upload id the database never had: a segment (and on disk a temp file). */
  plantUpload(t: TestServer, id: string): Promise<void>;
  /** A finished video that no videos row points at. */
  plantVideo(t: TestServer, id: string): Promise<void>;
  /** A partial segment, saved through the store (on disk into the upload's folder, made if missing). */
  plantPartial(t: TestServer, id: string): Promise<void>;
  /** What storage holds, listed straight from the storage (not through the store). */
  rawListing(t: TestServer): Promise<string[]>;
}

function diskSqlite(): Setup {
  return {
    name: "disk + SQLite",
    segmentSize: 64 * KiB,
    videoOrphanReason: "no_video_row",
    prepare: async () => {},
    start: (extra = {}) => startTestServer(extra),
    async tearDown(t) {
      await t.close();
      await removeDir(t.dataDir);
    },
    finish: async () => {},
    async deleteRow(t, id) {
      const db = new Database(join(t.dataDir, "cleancut.sqlite"));
      try {
        db.pragma("busy_timeout = 5000");
        db.prepare("DELETE FROM segments WHERE upload_id = ?").run(id);
        expect(db.prepare("DELETE FROM uploads WHERE id = ?").run(id).changes).toBe(1);
      } finally {
        db.close();
      }
    },
    async plantUpload(t, id) {
      const dir = join(t.dataDir, "uploads", id);
      await mkdir(dir);
      const bytes = randomBytes(64 * KiB);
      await writeFile(join(dir, segmentFileName(0, createHash("sha256").update(bytes).digest("hex"))), bytes);
      await writeFile(join(dir, tempFileName("seg-1", "abcdef")), randomBytes(1000));
    },
    async plantVideo(t, id) {
      await writeFile(join(t.dataDir, "videos", `${id}.video`), randomBytes(3000));
    },
    async plantPartial(t, id) {
      await mkdir(join(t.dataDir, "uploads", id), { recursive: true });
      await t.server.store.savePartialSegment({ id, storageRef: id }, 1, randomBytes(1000), never);
    },
    async rawListing(t) {
      const files = [
        ...(await filesUnder(join(t.dataDir, "uploads"))),
        ...(await filesUnder(join(t.dataDir, "videos"))),
      ];
      return files.map((file) => `${file.path.slice(t.dataDir.length + 1)} (${file.size} B)`);
    },
  };
}

function s3Postgres(): Setup {
  let bucket: TestBucket | undefined;
  let database: TestDatabase | undefined;
  const need = () => {
    if (bucket === undefined) throw new Error("prepare() first");
    return bucket;
  };
  return {
    name: "S3 (Swift) + PostgreSQL",
    segmentSize: 5 * MiB,
    videoOrphanReason: "no_record",
    async prepare() {
      bucket = await createTestBucket("gc");
    },
    async start(extra = {}) {
      database = await createTestDatabase();
      return startTestServer({ databaseUrl: database.url, storage: "s3", s3: need().settings, ...extra });
    },
    async tearDown(t) {
      await t.close();
      await removeDir(t.dataDir);
      await database?.drop();
      database = undefined;
    },
    async finish() {
      await bucket?.drop();
    },
    async deleteRow(_t, id) {
      const client = new pg.Client({ connectionString: database?.url });
      await client.connect();
      try {
        await client.query("DELETE FROM segments WHERE upload_id = $1", [id]);
        expect((await client.query("DELETE FROM uploads WHERE id = $1", [id])).rowCount).toBe(1);
      } finally {
        await client.end();
      }
    },
    async plantUpload(_t, id) {
      const { client, name } = need();
      const created = await client.send(
        new CreateMultipartUploadCommand({ Bucket: name, Key: `videos/${id}`, ContentType: "video/mp4" }),
      );
      await client.send(
        new UploadPartCommand({
          Bucket: name,
          Key: `videos/${id}`,
          UploadId: created.UploadId,
          PartNumber: 1,
          Body: randomBytes(64 * KiB),
        }),
      );
    },
    async plantVideo(_t, id) {
      const { client, name } = need();
      await client.send(new PutObjectCommand({ Bucket: name, Key: `videos/${id}`, Body: randomBytes(3000) }));
    },
    async plantPartial(t, id) {
      await t.server.store.savePartialSegment({ id, storageRef: id }, 1, randomBytes(1000), never);
    },
    async rawListing() {
      const { client, name } = need();
      const objects = await client.send(new ListObjectsV2Command({ Bucket: name }));
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: name }));
      return [
        ...(objects.Contents ?? []).map((object) => `object ${object.Key} (${object.Size} B)`),
        ...(uploads.Uploads ?? []).map((upload) => `multipart ${upload.Key} ${upload.UploadId}`),
      ];
    },
  };
}

const reconcile = (t: TestServer, options: { dryRun: boolean; graceMs?: number; now?: () => number }) =>
  reconcileOrphans(
    {
      store: t.server.store,
      videos: t.server.store,
      repository: t.server.repository,
      purge: t.server.config.purge,
    },
    options,
    never,
  );

const mentions = (listing: string[], id: string) => listing.filter((name) => name.includes(id));
const orphanIds = (report: OrphanReport) => [...new Set(report.orphans.map((orphan) => orphan.id))].sort();

describe.each([diskSqlite(), s3Postgres()])("orphan reconciler: $name", (setup) => {
  let t: TestServer;
  let api: Api;
  /** Uploads the test created through the API and left live: cancelled at the end, so the bucket ends empty. */
  let live: CreateUploadResponse[];

  beforeAll(() => setup.prepare(), 600_000);
  afterAll(() => setup.finish());
  afterEach(async () => {
    for (const upload of live) {
      const cancelled = await api.cancel(upload);
      expect([200, 202]).toContain(cancelled.status);
      await waitFor(async () => (await api.status(upload)).body.state === "cancelled", "a verified cancel");
    }
    await setup.tearDown(t);
  });

  async function start(extra: Record<string, unknown> = {}) {
    t = await setup.start(extra);
    api = new Api(t.url);
    live = [];
  }

  /** An upload through the real API with segment 0 stored. */
  async function uploadWithSegment(): Promise<CreateUploadResponse> {
    const upload = await api.create(setup.segmentSize * 2, setup.segmentSize);
    const put = await api.putSegment(upload, 0, randomBytes(setup.segmentSize));
    expect(put.status).toBeLessThan(300);
    return upload;
  }

  describe("with planted orphans", () => {
    beforeEach(() => start());

    it("dry run reports exactly the orphans and removes nothing; a real run removes exactly them", async () => {
      const keep = await uploadWithSegment();
      live.push(keep);
      const rowless = await uploadWithSegment();
      await setup.deleteRow(t, rowless.id);
      const neverHad = newId();
      await setup.plantUpload(t, neverHad);
      const videoWithoutRow = newId();
      await setup.plantVideo(t, videoWithoutRow);
      const orphans = [rowless.id, neverHad, videoWithoutRow].sort();

      const before = await setup.rawListing(t);
      for (const id of [...orphans, keep.id]) expect(mentions(before, id)).not.toEqual([]);

      const dry = await reconcile(t, { dryRun: true, graceMs: 0 });
      expect(dry.dryRun).toBe(true);
      expect(orphanIds(dry)).toEqual(orphans);
      expect(dry.orphans.find((orphan) => orphan.id === rowless.id)?.reason).toBe("no_record");
      expect(dry.orphans.find((orphan) => orphan.id === neverHad)?.reason).toBe("no_record");
      expect(dry.orphans.find((orphan) => orphan.id === videoWithoutRow)).toMatchObject({
        kind: "video",
        reason: setup.videoOrphanReason,
        bytes: 3000,
      });
      expect(
        dry.orphans.find((orphan) => orphan.id === rowless.id && orphan.kind === "segments")?.bytes,
      ).toBe(setup.segmentSize);
      expect(dry.removed).toBe(0);
      expect(dry.scanned).toBeGreaterThanOrEqual(4);
      expect((await setup.rawListing(t)).sort()).toEqual([...before].sort());

      const real = await reconcile(t, { dryRun: false, graceMs: 0 });
      expect(real.failed).toEqual([]);
      expect(orphanIds(real)).toEqual(orphans);
      expect(real.removed).toBe(real.orphans.length);
      const after = await setup.rawListing(t);
      for (const id of orphans) expect(mentions(after, id)).toEqual([]);
      expect(mentions(after, keep.id)).toEqual(mentions(before, keep.id));
      const segments = await api.segments(keep);
      expect(JSON.stringify(segments.body)).toContain(`"index":0`);

      const again = await reconcile(t, { dryRun: true, graceMs: 0 });
      expect(again.orphans).toEqual([]);
      const entries = await t.server.store.listStoredEntries(never);
      expect(entries.map((entry) => entry.ownerId)).toEqual([keep.id]);
    });

    it("a partial segment of an unknown or cancelled upload is removed with the rest of its storage", async () => {
      const keep = await uploadWithSegment();
      live.push(keep);
      await setup.plantPartial(t, keep.id);
      const cancelled = await uploadWithSegment();
      expect([200, 202]).toContain((await api.cancel(cancelled)).status);
      await waitFor(
        async () => (await api.status(cancelled)).body.state === "cancelled",
        "a verified cancel",
      );
      await setup.plantPartial(t, cancelled.id);
      const withSegments = newId();
      await setup.plantUpload(t, withSegments);
      await setup.plantPartial(t, withSegments);
      const partialOnly = newId();
      await setup.plantPartial(t, partialOnly);
      const orphans = [cancelled.id, withSegments, partialOnly].sort();

      const dry = await reconcile(t, { dryRun: true, graceMs: 0 });
      expect(orphanIds(dry)).toEqual(orphans);
      for (const id of orphans) {
        expect(dry.orphans.filter((orphan) => orphan.id === id && orphan.kind === "temp")).not.toEqual([]);
      }
      expect(dry.orphans.find((orphan) => orphan.id === cancelled.id)?.reason).toBe("upload_cancelled");

      const real = await reconcile(t, { dryRun: false, graceMs: 0 });
      expect(real.failed).toEqual([]);
      expect(real.removed).toBe(real.orphans.length);
      const after = await setup.rawListing(t);
      for (const id of orphans) expect(mentions(after, id)).toEqual([]);
      const entries = await t.server.store.listStoredEntries(never);
      expect([...new Set(entries.map((entry) => entry.ownerId))]).toEqual([keep.id]);
      const kept = await t.server.store.loadPartialSegment({ id: keep.id, storageRef: keep.id }, never);
      expect(kept?.index).toBe(1);
    });

    it("storage left behind by a cancelled upload is an orphan; a fresh orphan waits out the grace period", async () => {
      const cancelled = await uploadWithSegment();
      expect([200, 202]).toContain((await api.cancel(cancelled)).status);
      await waitFor(
        async () => (await api.status(cancelled)).body.state === "cancelled",
        "a verified cancel",
      );
      await setup.plantUpload(t, cancelled.id);
      const fresh = newId();
      await setup.plantUpload(t, fresh);

      const withGrace = await reconcile(t, { dryRun: false });
      expect(withGrace.orphans).toEqual([]);
      expect(withGrace.young).toBeGreaterThanOrEqual(2);
      expect(mentions(await setup.rawListing(t), fresh)).not.toEqual([]);
      expect(mentions(await setup.rawListing(t), cancelled.id)).not.toEqual([]);

      const later = () => Date.now() + 11 * 60 * 1000;
      const run = await reconcile(t, { dryRun: false, now: later });
      expect(run.failed).toEqual([]);
      expect(orphanIds(run)).toEqual([cancelled.id, fresh].sort());
      expect(run.orphans.find((orphan) => orphan.id === cancelled.id)?.reason).toBe("upload_cancelled");
      const after = await setup.rawListing(t);
      expect(mentions(after, fresh)).toEqual([]);
      expect(mentions(after, cancelled.id)).toEqual([]);
    });
  });

  it("the server runs it periodically from the reaper and leaves live uploads alone", async () => {
    // A grace of 1 s: long enough for any create to write its record, short enough for the test.
    await start({ gcIntervalMs: 200, gcGraceMs: 1000 });
    const keep = await uploadWithSegment();
    live.push(keep);
    const orphan = newId();
    await setup.plantUpload(t, orphan);
    expect(mentions(await setup.rawListing(t), orphan)).not.toEqual([]);
    await waitFor(
      async () => mentions(await setup.rawListing(t), orphan).length === 0,
      "the orphan removed",
      20_000,
    );
    const kept = await setup.rawListing(t);
    expect(mentions(kept, keep.id)).not.toEqual([]);
    expect((await api.status(keep)).body.receivedSegments).toBe(1);
  });
});
