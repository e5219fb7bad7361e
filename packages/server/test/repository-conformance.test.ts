import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type {
  CancelReport,
  NewUpload,
  UploadEvent,
  UploadRecord,
  UploadRepository,
  UploadState,
  VideoInfo,
} from "@cleancut/core";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PostgresUploadRepository } from "../src/repository/postgres-repository.js";
import { migrations } from "../src/repository/schema.js";
import { SqliteUploadRepository } from "../src/repository/sqlite-repository.js";
import { removeDir } from "./support/harness.js";
import { createTestDatabase } from "./support/postgres.js";

/** One empty place to keep metadata (a temp SQLite file, a fresh PostgreSQL database). */
interface Backend {
  /** Opens a repository on it, running the migrations; may be called again (a second server). */
  open(): Promise<UploadRepository>;
  /** `schema_migrations` as stored, one entry per row. */
  appliedVersions(): Promise<number[]>;
  /** Closes every repository opened and removes the place. */
  cleanup(): Promise<void>;
}

const GiB = 1024 ** 3;
const signal = new AbortController().signal;
const hour = 60 * 60 * 1000;

let counter = 0;
function newUpload(overrides: Partial<NewUpload> = {}): NewUpload {
  counter += 1;
  const now = Date.now();
  return {
    id: `up_${counter}_${Math.random().toString(36).slice(2, 10)}`,
    tokenHash: `hash-${counter}`,
    filename: "clip.mp4",
    contentType: "video/mp4",
    size: 64 * GiB,
    segmentSize: 8 * 1024 * 1024,
    segmentCount: 8192,
    storageRef: `uploads/${counter}`,
    createdAt: now,
    expiresAt: now + hour,
    ...overrides,
  };
}

function report(overrides: Partial<CancelReport> = {}): CancelReport {
  return {
    id: "up_report",
    state: "cancelling",
    reason: "client",
    abortedTransfers: 2,
    deletedSegments: 3,
    deletedBytes: 5 * GiB,
    remainingSegments: 1,
    remaining: [{ index: 4, name: "segments/000004.abc.seg", size: 1234 }],
    failures: [{ index: 4, name: "segments/000004.abc.seg", code: "storage_unavailable", message: "EIO: ü" }],
    verified: false,
    attempts: 1,
    requestedAt: "2024-05-01T10:00:00.000Z",
    durationMs: 42,
    nextAttemptAt: "2024-05-01T10:00:01.000Z",
    ...overrides,
  };
}

function describeRepositoryConformance(name: string, create: () => Promise<Backend>): void {
  describe(`UploadRepository conformance: ${name}`, () => {
    let backend: Backend;
    let repo: UploadRepository;

    beforeEach(async () => {
      backend = await create();
      repo = await backend.open();
    });
    afterEach(async () => {
      await backend?.cleanup();
    });

    /** Creates an upload and moves it to `state` (through the repository, as the server does). */
    async function uploadIn(state: UploadState, overrides: Partial<NewUpload> = {}): Promise<UploadRecord> {
      return repo.createUpload(newUpload({ ...overrides, state }), signal);
    }

    describe("createUpload / getUpload", () => {
      it("stores every field, defaults the state to uploading and sets updatedAt; big sizes stay numbers", async () => {
        const before = Date.now();
        const input = newUpload({ size: 3 * 2 ** 40, segmentSize: 2 * GiB + 1 });
        const created = await repo.createUpload(input, signal);
        expect(created).toEqual({ ...input, state: "uploading", updatedAt: expect.any(Number) });
        expect(created.updatedAt).toBeGreaterThanOrEqual(before);
        expect(typeof created.size).toBe("number");
        expect(typeof created.createdAt).toBe("number");
        expect(await repo.getUpload(input.id, signal)).toEqual(created);
      });

      it("keeps an explicit initial state", async () => {
        const created = await repo.createUpload(newUpload({ state: "cancelling" }), signal);
        expect(created.state).toBe("cancelling");
        expect((await repo.getUpload(created.id, signal))?.state).toBe("cancelling");
      });

      it("answers undefined for an unknown id", async () => {
        expect(await repo.getUpload("nope", signal)).toBeUndefined();
      });

      it("refuses a second upload with the same id", async () => {
        const input = newUpload();
        await repo.createUpload(input, signal);
        await expect(repo.createUpload(input, signal)).rejects.toThrow();
      });
    });

    describe("listUploads", () => {
      it("lists newest first, up to the limit, filtered by state", async () => {
        const base = Date.now();
        const a = await uploadIn("uploading", { createdAt: base - 3000 });
        const b = await uploadIn("cancelled", { createdAt: base - 2000 });
        const c = await uploadIn("uploading", { createdAt: base - 1000 });
        const d = await uploadIn("failed", { createdAt: base });
        const ids = (records: UploadRecord[]) => records.map((record) => record.id);

        expect(ids(await repo.listUploads({ limit: 10 }, signal))).toEqual([d.id, c.id, b.id, a.id]);
        expect(ids(await repo.listUploads({ limit: 2 }, signal))).toEqual([d.id, c.id]);
        expect(ids(await repo.listUploads({ limit: 10, states: [] }, signal))).toEqual([
          d.id,
          c.id,
          b.id,
          a.id,
        ]);
        expect(ids(await repo.listUploads({ limit: 10, states: ["uploading"] }, signal))).toEqual([
          c.id,
          a.id,
        ]);
        expect(ids(await repo.listUploads({ limit: 1, states: ["uploading"] }, signal))).toEqual([c.id]);
        expect(ids(await repo.listUploads({ limit: 10, states: ["cancelled", "failed"] }, signal))).toEqual([
          d.id,
          b.id,
        ]);
        expect(await repo.listUploads({ limit: 10, states: ["completed"] }, signal)).toEqual([]);
        // Whole records, not just ids.
        expect((await repo.listUploads({ limit: 10, states: ["failed"] }, signal))[0]).toEqual(d);
      });
    });

    describe("countUploadsByState", () => {
      it("counts every state, 0 for the states no upload is in, and follows transitions", async () => {
        const zero = { uploading: 0, completing: 0, completed: 0, cancelling: 0, cancelled: 0, failed: 0 };
        expect(await repo.countUploadsByState(signal)).toEqual(zero);
        const a = await uploadIn("uploading");
        await uploadIn("uploading");
        await uploadIn("cancelled");
        await uploadIn("failed");
        expect(await repo.countUploadsByState(signal)).toEqual({
          ...zero,
          uploading: 2,
          cancelled: 1,
          failed: 1,
        });
        await repo.transition(a.id, ["uploading"], "cancelling", {}, signal);
        const counts = await repo.countUploadsByState(signal);
        expect(counts).toEqual({ ...zero, uploading: 1, cancelling: 1, cancelled: 1, failed: 1 });
        // Numbers, not the strings pg hands back for COUNT.
        expect(typeof counts.uploading).toBe("number");
      });
    });

    describe("countOpenUploads", () => {
      it("counts a creator's uploading and completing uploads only, and keeps the creator on the record", async () => {
        const mine = await uploadIn("uploading", { creator: "addr:me" });
        expect(mine.creator).toBe("addr:me");
        await uploadIn("completing", { creator: "addr:me" });
        await uploadIn("cancelled", { creator: "addr:me" });
        await uploadIn("completed", { creator: "addr:me" });
        await uploadIn("uploading", { creator: "addr:other" });
        await uploadIn("uploading");
        expect(await repo.countOpenUploads("addr:me", signal)).toBe(2);
        expect(await repo.countOpenUploads("addr:nobody", signal)).toBe(0);
        await repo.transition(mine.id, ["uploading"], "cancelling", {}, signal);
        const count = await repo.countOpenUploads("addr:me", signal);
        expect(count).toBe(1);
        expect(typeof count).toBe("number");
      });
    });

    describe("owner, metadata and the event outbox", () => {
      /** Every event this repository announces as committed, in order. */
      function heard(): UploadEvent[] {
        const events: UploadEvent[] = [];
        repo.onEventCommitted((event) => events.push(event));
        return events;
      }

      it("keeps the application's owner and metadata, and lists an owner's uploads newest first", async () => {
        const metadata = { title: "Büro tour", draft: "42" };
        const first = await uploadIn("uploading", {
          owner: "user-7",
          metadata,
          createdAt: Date.now() - 1000,
        });
        const second = await uploadIn("completed", { owner: "user-7" });
        await uploadIn("uploading", { owner: "user-8" });
        await uploadIn("uploading");
        expect((await repo.getUpload(first.id, signal))?.metadata).toEqual(metadata);
        expect((await repo.getUpload(first.id, signal))?.owner).toBe("user-7");
        const mine = await repo.listUploads({ limit: 10, owner: "user-7" }, signal);
        expect(mine.map((upload) => upload.id)).toEqual([second.id, first.id]);
        const open = await repo.listUploads({ limit: 10, owner: "user-7", states: ["uploading"] }, signal);
        expect(open.map((upload) => upload.id)).toEqual([first.id]);
      });

      it("announces an event once its change committed, with the upload's owner and metadata", async () => {
        const events = heard();
        const created = await repo.createUpload(
          newUpload({ owner: "user-7", metadata: { title: "t" } }),
          signal,
          { type: "upload.cancelled", data: { report: report({ id: "x" }) } },
        );
        expect(events).toEqual([
          {
            id: expect.stringMatching(/^evt_[A-Za-z0-9_-]{22}$/),
            type: "upload.cancelled",
            timestamp: expect.any(String),
            data: {
              uploadId: created.id,
              owner: "user-7",
              metadata: { title: "t" },
              report: report({ id: "x" }),
            },
          },
        ]);
        expect(Date.parse(events[0]?.timestamp ?? "")).toBeGreaterThan(Date.now() - 60_000);
      });

      it("writes no event for a transition that did not happen, one for one that did", async () => {
        const upload = await uploadIn("uploading");
        const events = heard();
        const draft = { type: "video.deleted", data: { videoId: "v1" } } as const;
        expect(
          await repo.transition(upload.id, ["completing"], "completed", {}, signal, draft),
        ).toBeUndefined();
        expect(events).toEqual([]);
        expect(
          await repo.transition(upload.id, ["uploading"], "cancelling", {}, signal, draft),
        ).toBeDefined();
        expect(events.map((event) => [event.type, event.data.uploadId])).toEqual([
          ["video.deleted", upload.id],
        ]);
        expect(events[0]?.data).not.toHaveProperty("owner");
      });

      it("patchUpload and deleteVideo carry events; a repeated delete announces nothing", async () => {
        const upload = await uploadIn("completed", { owner: "user-9" });
        const events = heard();
        await repo.patchUpload(upload.id, { nextCleanupAt: 5 }, signal, {
          type: "upload.cancel_pending",
          data: { report: report() },
        });
        await repo.createVideo(
          {
            videoId: "vid_evt",
            uploadId: upload.id,
            filename: "clip.mp4",
            contentType: "video/mp4",
            size: 1,
            sha256: "9".repeat(64),
            createdAt: new Date().toISOString(),
            probe: { container: "mp4" },
            storageKey: "videos/vid_evt",
          },
          signal,
        );
        const deleted = { type: "video.deleted", data: { videoId: "vid_evt" } } as const;
        await repo.deleteVideo("vid_evt", signal, deleted);
        await repo.deleteVideo("vid_evt", signal, deleted);
        expect(events.map((event) => [event.type, event.data.uploadId, event.data.owner])).toEqual([
          ["upload.cancel_pending", upload.id, "user-9"],
          ["video.deleted", upload.id, "user-9"],
        ]);
        expect((await repo.getUpload(upload.id, signal))?.nextCleanupAt).toBe(5);
      });

      it("an unsubscribed listener hears nothing more", async () => {
        const events: UploadEvent[] = [];
        const off = repo.onEventCommitted((event) => events.push(event));
        off();
        await repo.createUpload(newUpload(), signal, { type: "video.deleted", data: { videoId: "v" } });
        expect(events).toEqual([]);
      });
    });

    describe("tus facts", () => {
      it("keeps a tus upload's metadata, concatenation and partial segment, and patches them", async () => {
        const tus = {
          metadata: "filename ZmlsbS5tcDQ=",
          concat: { kind: "final" as const, parts: ["a", "b"] },
        };
        const created = await uploadIn("uploading", { tus });
        expect(created.tus).toEqual(tus);
        await repo.patchUpload(created.id, { tus: { ...tus, partial: { index: 3, bytes: 12345 } } }, signal);
        expect((await repo.getUpload(created.id, signal))?.tus).toEqual({
          ...tus,
          partial: { index: 3, bytes: 12345 },
        });
        expect((await uploadIn("uploading")).tus).toBeUndefined();
      });
    });

    describe("transition (compare-and-set)", () => {
      it("moves from an allowed state, applies the patch and returns the new record", async () => {
        const upload = await uploadIn("uploading");
        const moved = await repo.transition(
          upload.id,
          ["uploading", "completing"],
          "cancelling",
          { cancelReason: "client", nextCleanupAt: 1234 },
          signal,
        );
        expect(moved).toEqual({
          ...upload,
          state: "cancelling",
          cancelReason: "client",
          nextCleanupAt: 1234,
          updatedAt: expect.any(Number),
        });
        expect(moved!.updatedAt).toBeGreaterThanOrEqual(upload.updatedAt);
        expect(await repo.getUpload(upload.id, signal)).toEqual(moved);
      });

      it("from a state the upload is not in: returns undefined and changes nothing", async () => {
        const upload = await uploadIn("completed");
        const result = await repo.transition(
          upload.id,
          ["uploading", "completing"],
          "cancelling",
          { cancelReason: "client", errorCode: "x" },
          signal,
        );
        expect(result).toBeUndefined();
        expect(await repo.getUpload(upload.id, signal)).toEqual(upload);
      });

      it("returns undefined for an unknown id", async () => {
        expect(await repo.transition("nope", ["uploading"], "cancelling", {}, signal)).toBeUndefined();
      });

      it("10 concurrent transitions from the same state: exactly one wins", async () => {
        const upload = await uploadIn("uploading");
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            repo.transition(
              upload.id,
              ["uploading"],
              i % 2 === 0 ? "cancelling" : "completing",
              { errorMessage: `contender ${i}` },
              signal,
            ),
          ),
        );
        const winners = results.filter((result) => result !== undefined);
        expect(winners).toHaveLength(1);
        const winner = winners[0]!;
        expect(await repo.getUpload(upload.id, signal)).toEqual(winner);
        const index = results.indexOf(winner);
        expect(winner.errorMessage).toBe(`contender ${index}`);
        expect(winner.state).toBe(index % 2 === 0 ? "cancelling" : "completing");
      });

      it("with an empty patch changes only the state", async () => {
        const upload = await uploadIn("uploading");
        const moved = await repo.transition(upload.id, ["uploading"], "completing", {}, signal);
        expect(moved).toEqual({ ...upload, state: "completing", updatedAt: expect.any(Number) });
      });
    });

    describe("patchUpload", () => {
      it("changes the given fields, leaves the rest and the state alone", async () => {
        const upload = await uploadIn("cancelling");
        await repo.patchUpload(
          upload.id,
          { nextCleanupAt: 99, errorCode: "e1", storageRef: "elsewhere" },
          signal,
        );
        const first = await repo.getUpload(upload.id, signal);
        expect(first).toEqual({
          ...upload,
          nextCleanupAt: 99,
          errorCode: "e1",
          storageRef: "elsewhere",
          updatedAt: expect.any(Number),
        });
        await repo.patchUpload(
          upload.id,
          { videoId: "vid_1", errorMessage: "boom", nextCleanupAt: 100 },
          signal,
        );
        expect(await repo.getUpload(upload.id, signal)).toEqual({
          ...first,
          videoId: "vid_1",
          errorMessage: "boom",
          nextCleanupAt: 100,
          updatedAt: expect.any(Number),
        });
      });

      it("an empty patch is a no-op, and an unknown id is not an error", async () => {
        const upload = await uploadIn("uploading");
        await repo.patchUpload(upload.id, {}, signal);
        expect(await repo.getUpload(upload.id, signal)).toEqual(upload);
        await repo.patchUpload("nope", { errorCode: "x" }, signal);
        expect(await repo.getUpload("nope", signal)).toBeUndefined();
      });
    });

    describe("cancelReport", () => {
      it("round-trips as JSON through transition and patchUpload", async () => {
        const upload = await uploadIn("uploading");
        const first = report({ id: upload.id });
        const moved = await repo.transition(
          upload.id,
          ["uploading"],
          "cancelling",
          { cancelReason: "client", cancelReport: first },
          signal,
        );
        expect(moved?.cancelReport).toEqual(first);
        expect((await repo.getUpload(upload.id, signal))?.cancelReport).toEqual(first);

        const final = report({
          id: upload.id,
          state: "cancelled",
          verified: true,
          remaining: [],
          failures: [],
          remainingSegments: 0,
          attempts: 2,
          finishedAt: "2024-05-01T10:00:02.000Z",
          nextAttemptAt: undefined,
        });
        await repo.patchUpload(upload.id, { cancelReport: final }, signal);
        const stored = (await repo.getUpload(upload.id, signal))?.cancelReport;
        expect(stored).toEqual(JSON.parse(JSON.stringify(final)));
        expect(stored).not.toHaveProperty("nextAttemptAt");
      });
    });

    describe("segments", () => {
      it("record, re-record (upsert), forget one, forget all, tally", async () => {
        const upload = await uploadIn("uploading");
        const other = await uploadIn("uploading");
        expect(await repo.tallySegments(upload.id, signal)).toEqual({ count: 0, bytes: 0 });

        await repo.recordSegment(upload.id, { index: 0, size: 3 * GiB, sha256: "a".repeat(64) }, signal);
        await repo.recordSegment(upload.id, { index: 1, size: 3 * GiB, sha256: "b".repeat(64) }, signal);
        await repo.recordSegment(upload.id, { index: 2, size: 100, sha256: "c".repeat(64) }, signal);
        await repo.recordSegment(other.id, { index: 0, size: 7, sha256: "d".repeat(64) }, signal);
        expect(await repo.tallySegments(upload.id, signal)).toEqual({ count: 3, bytes: 6 * GiB + 100 });

        // Recording the same index again replaces it, it does not add one.
        await repo.recordSegment(upload.id, { index: 1, size: 10, sha256: "e".repeat(64) }, signal);
        expect(await repo.tallySegments(upload.id, signal)).toEqual({ count: 3, bytes: 3 * GiB + 110 });
        expect(await repo.listRecordedSegments(upload.id, signal)).toEqual([
          { index: 0, size: 3 * GiB, sha256: "a".repeat(64) },
          { index: 1, size: 10, sha256: "e".repeat(64) },
          { index: 2, size: 100, sha256: "c".repeat(64) },
        ]);
        expect(await repo.listRecordedSegments("nope", signal)).toEqual([]);

        await repo.forgetSegment(upload.id, 0, signal);
        expect(await repo.tallySegments(upload.id, signal)).toEqual({ count: 2, bytes: 110 });
        await repo.forgetSegment(upload.id, 0, signal); // already gone: no error
        await repo.forgetSegment(upload.id, 7, signal);

        await repo.forgetAllSegments(upload.id, signal);
        expect(await repo.tallySegments(upload.id, signal)).toEqual({ count: 0, bytes: 0 });
        expect(await repo.tallySegments(other.id, signal)).toEqual({ count: 1, bytes: 7 });
        expect(await repo.tallySegments("nope", signal)).toEqual({ count: 0, bytes: 0 });
      });
    });

    describe("reaper queries", () => {
      it("listExpired: only uploading past its expiry, soonest first, up to the limit", async () => {
        const now = Date.now();
        const late = await uploadIn("uploading", { expiresAt: now - 1000 });
        const later = await uploadIn("uploading", { expiresAt: now - 5000 });
        const exact = await uploadIn("uploading", { expiresAt: now });
        await uploadIn("uploading", { expiresAt: now + 1000 });
        await uploadIn("completing", { expiresAt: now - 9000 });
        await uploadIn("cancelling", { expiresAt: now - 9000 });
        await uploadIn("cancelled", { expiresAt: now - 9000 });

        const ids = (await repo.listExpired(now, 10, signal)).map((record) => record.id);
        expect(ids).toEqual([later.id, late.id, exact.id]);
        expect((await repo.listExpired(now, 2, signal)).map((record) => record.id)).toEqual([
          later.id,
          late.id,
        ]);
        expect((await repo.listExpired(now, 1, signal))[0]).toEqual(later);
      });

      it("listCleanupDue: cancelling whose cleanup is due or was never scheduled, unscheduled first", async () => {
        const now = Date.now();
        const never = await uploadIn("cancelling");
        expect(never.nextCleanupAt).toBeUndefined();
        const due = await uploadIn("cancelling");
        await repo.patchUpload(due.id, { nextCleanupAt: now - 10 }, signal);
        const dueExactly = await uploadIn("cancelling");
        await repo.patchUpload(dueExactly.id, { nextCleanupAt: now }, signal);
        const notYet = await uploadIn("cancelling");
        await repo.patchUpload(notYet.id, { nextCleanupAt: now + 60_000 }, signal);
        const notCancelling = await uploadIn("cancelled");
        await repo.patchUpload(notCancelling.id, { nextCleanupAt: now - 10 }, signal);
        await uploadIn("uploading");

        const ids = (await repo.listCleanupDue(now, 10, signal)).map((record) => record.id);
        expect(ids).toEqual([never.id, due.id, dueExactly.id]);
        expect((await repo.listCleanupDue(now, 1, signal)).map((record) => record.id)).toEqual([never.id]);
        expect((await repo.listCleanupDue(now + 60_000, 10, signal)).map((record) => record.id)).toContain(
          notYet.id,
        );
      });

      it("purgeFinished: only cancelled/failed whose expiry and last change are both before the cutoff", async () => {
        const old = 1_000_000;
        const cancelled = await uploadIn("cancelled", { expiresAt: old });
        const failed = await uploadIn("failed", { expiresAt: old });
        await repo.recordSegment(cancelled.id, { index: 0, size: 5, sha256: "f".repeat(64) }, signal);
        const notExpired = await uploadIn("cancelled", { expiresAt: Date.now() + hour });
        const keepers = await Promise.all(
          (["uploading", "completing", "completed", "cancelling"] as const).map((state) =>
            uploadIn(state, { expiresAt: old }),
          ),
        );

        // Expired long ago but changed just now: kept until the change is old too.
        expect(await repo.purgeFinished(old + 1000, 100, signal)).toBe(0);
        expect(await repo.getUpload(cancelled.id, signal)).toBeDefined();

        const cutoff = Date.now() + 1000;
        expect(await repo.purgeFinished(cutoff, 1, signal)).toBe(1);
        expect(await repo.purgeFinished(cutoff, 100, signal)).toBe(1);
        expect(await repo.purgeFinished(cutoff, 100, signal)).toBe(0);

        expect(await repo.getUpload(cancelled.id, signal)).toBeUndefined();
        expect(await repo.getUpload(failed.id, signal)).toBeUndefined();
        expect(await repo.tallySegments(cancelled.id, signal)).toEqual({ count: 0, bytes: 0 });
        expect(await repo.getUpload(notExpired.id, signal)).toEqual(notExpired);
        for (const keeper of keepers) expect(await repo.getUpload(keeper.id, signal)).toEqual(keeper);
      });

      it("listStuckCompleting: every upload left completing", async () => {
        const a = await uploadIn("completing");
        const b = await uploadIn("completing");
        await uploadIn("uploading");
        await uploadIn("completed");
        const stuck = await repo.listStuckCompleting(signal);
        expect(stuck.map((record) => record.id).sort()).toEqual([a.id, b.id].sort());
        expect(stuck.find((record) => record.id === a.id)).toEqual(a);
      });
    });

    describe("videos", () => {
      it("create, get, delete", async () => {
        const video: VideoInfo & { storageKey: string } = {
          videoId: "vid_abc",
          uploadId: "up_abc",
          filename: "clip.mp4",
          contentType: "video/mp4",
          size: 5 * GiB,
          sha256: "9".repeat(64),
          createdAt: "2024-05-01T10:00:00.123Z",
          probe: { container: "mp4", durationSeconds: 3.5, width: 640, height: 360, videoCodec: "h264" },
          storageKey: "videos/vid_abc.mp4",
        };
        await repo.createVideo(video, signal);
        expect(await repo.getVideo(video.videoId, signal)).toEqual(video);
        expect(await repo.getVideo("nope", signal)).toBeUndefined();
        await repo.deleteVideo(video.videoId, signal);
        expect(await repo.getVideo(video.videoId, signal)).toBeUndefined();
        await repo.deleteVideo(video.videoId, signal); // already gone: no error
      });
    });

    describe("migrations", () => {
      it("are recorded once, and opening the same place again is not an error", async () => {
        const upload = await uploadIn("uploading");
        expect(await backend.appliedVersions()).toEqual(migrations.map((migration) => migration.version));
        const second = await backend.open();
        expect(await second.getUpload(upload.id, signal)).toEqual(upload);
        await backend.open();
        expect(await backend.appliedVersions()).toEqual(migrations.map((migration) => migration.version));
      });

      it("five servers starting at once on an empty place all come up, versions recorded once", async () => {
        const fresh = await create();
        try {
          // Without the migration lock PostgreSQL fails this (duplicate key in pg_type).
          const opened = await Promise.all(Array.from({ length: 5 }, () => fresh.open()));
          const upload = await opened[0]!.createUpload(newUpload(), signal);
          for (const other of opened) expect(await other.getUpload(upload.id, signal)).toEqual(upload);
          expect(await fresh.appliedVersions()).toEqual(migrations.map((migration) => migration.version));
        } finally {
          await fresh.cleanup();
        }
      });
    });

    describe("abort and close", () => {
      it("an aborted signal rejects every method and changes nothing", async () => {
        const upload = await uploadIn("uploading");
        await repo.recordSegment(upload.id, { index: 0, size: 1, sha256: "a".repeat(64) }, signal);
        const controller = new AbortController();
        controller.abort();
        const aborted = controller.signal;
        const video = {
          videoId: "vid_x",
          uploadId: upload.id,
          filename: "x.mp4",
          contentType: "video/mp4",
          size: 1,
          sha256: "0".repeat(64),
          createdAt: new Date().toISOString(),
          probe: { container: "mp4" },
          storageKey: "videos/x",
        };
        const calls: Array<[string, () => Promise<unknown>]> = [
          ["createUpload", () => repo.createUpload(newUpload({ id: "up_aborted" }), aborted)],
          ["getUpload", () => repo.getUpload(upload.id, aborted)],
          ["countOpenUploads", () => repo.countOpenUploads("addr:me", aborted)],
          ["listUploads", () => repo.listUploads({ limit: 10 }, aborted)],
          ["countUploadsByState", () => repo.countUploadsByState(aborted)],
          ["transition", () => repo.transition(upload.id, ["uploading"], "cancelling", {}, aborted)],
          ["patchUpload", () => repo.patchUpload(upload.id, { errorCode: "x" }, aborted)],
          ["recordSegment", () => repo.recordSegment(upload.id, { index: 1, size: 1, sha256: "b" }, aborted)],
          ["forgetSegment", () => repo.forgetSegment(upload.id, 0, aborted)],
          ["forgetAllSegments", () => repo.forgetAllSegments(upload.id, aborted)],
          ["tallySegments", () => repo.tallySegments(upload.id, aborted)],
          ["listExpired", () => repo.listExpired(Date.now(), 10, aborted)],
          ["listCleanupDue", () => repo.listCleanupDue(Date.now(), 10, aborted)],
          ["purgeFinished", () => repo.purgeFinished(Date.now() + hour, 10, aborted)],
          ["listStuckCompleting", () => repo.listStuckCompleting(aborted)],
          ["createVideo", () => repo.createVideo(video, aborted)],
          ["getVideo", () => repo.getVideo("vid_x", aborted)],
          ["deleteVideo", () => repo.deleteVideo("vid_x", aborted)],
        ];
        for (const [method, call] of calls) {
          await expect(call(), method).rejects.toMatchObject({ name: "AbortError" });
        }
        expect(await repo.getUpload("up_aborted", signal)).toBeUndefined();
        expect(await repo.getUpload(upload.id, signal)).toEqual(upload);
        expect(await repo.tallySegments(upload.id, signal)).toEqual({ count: 1, bytes: 1 });
        expect(await repo.getVideo("vid_x", signal)).toBeUndefined();
      });

      it("close can be called twice", async () => {
        await repo.close();
        await repo.close();
      });
    });
  });
}

describeRepositoryConformance("SQLite", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cleancut-repo-"));
  const path = join(dir, "cleancut.sqlite");
  const opened: UploadRepository[] = [];
  return {
    async open() {
      const repository = new SqliteUploadRepository(path);
      opened.push(repository);
      return repository;
    },
    async appliedVersions() {
      const db = new Database(path, { readonly: true });
      try {
        const rows = db.prepare("SELECT version FROM schema_migrations ORDER BY version").all() as Array<{
          version: number;
        }>;
        return rows.map((row) => row.version);
      } finally {
        db.close();
      }
    },
    async cleanup() {
      for (const repository of opened) await repository.close();
      await removeDir(dir);
    },
  };
});

describeRepositoryConformance("PostgreSQL", async () => {
  const database = await createTestDatabase();
  const opened: UploadRepository[] = [];
  return {
    async open() {
      const repository = await PostgresUploadRepository.connect(database.url);
      opened.push(repository);
      return repository;
    },
    async appliedVersions() {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number }>(
          "SELECT version FROM schema_migrations ORDER BY version",
        );
        return rows.map((row) => row.version);
      } finally {
        await client.end();
      }
    },
    async cleanup() {
      for (const repository of opened) await repository.close();
      await database.drop();
    },
  };
});
