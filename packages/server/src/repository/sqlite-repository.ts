import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type {
  EventDraft,
  NewUpload,
  SegmentTally,
  StoredSegment,
  UploadEvent,
  UploadPatch,
  UploadRecord,
  UploadRepository,
  UploadState,
  VideoInfo,
} from "@cleancut/core";
import Database from "better-sqlite3";
import { countsByState } from "./counts.js";
import { CommittedEvents, type EventRow, eventRowOf, newEventValues } from "./event-rows.js";
import { patchToColumns, rowToUpload, rowToVideo, type UploadRow, type VideoRow } from "./rows.js";
import { migrationSql, migrations } from "./schema.js";
import { statementCache } from "./statement-cache.js";

/**
 * Upload metadata in one SQLite file. better-sqlite3 is synchronous, so every method is one
 * atomic step for this process; WAL with `synchronous = FULL` makes a committed tombstone
 * survive a crash.
 */
export class SqliteUploadRepository implements UploadRepository {
  readonly #db: Database.Database;
  readonly #sql: (sql: string) => Database.Statement;
  readonly #committed = new CommittedEvents();

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    this.#sql = statementCache(this.#db);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = FULL");
    this.#db.pragma("foreign_keys = ON");
    this.#db.pragma("busy_timeout = 5000");
    this.#migrate();
  }

  #migrate(): void {
    this.#db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
    );
    const applied = new Set(
      (this.#db.prepare("SELECT version FROM schema_migrations").all() as Array<{ version: number }>).map(
        (row) => row.version,
      ),
    );
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      this.#db.transaction(() => {
        this.#db.exec(migrationSql(migration, "sqlite"));
        this.#db
          .prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
          .run(migration.version, migration.name, Date.now());
      })();
    }
  }

  async createUpload(upload: NewUpload, signal: AbortSignal, event?: EventDraft): Promise<UploadRecord> {
    signal.throwIfAborted();
    const now = Date.now();
    return this.#withEvent(event, () => {
      this.#sql(
        `INSERT INTO uploads (id, token_hash, filename, content_type, size, segment_size, segment_count, state,
             storage_ref, created_at, expires_at, updated_at, creator, owner, metadata, tus)
           VALUES (@id, @tokenHash, @filename, @contentType, @size, @segmentSize, @segmentCount, @state,
             @storageRef, @createdAt, @expiresAt, @updatedAt, @creator, @owner, @metadata, @tus)`,
      ).run({
        ...upload,
        state: upload.state ?? "uploading",
        updatedAt: now,
        creator: upload.creator ?? null,
        owner: upload.owner ?? null,
        metadata: upload.metadata === undefined ? null : JSON.stringify(upload.metadata),
        tus: upload.tus === undefined ? null : JSON.stringify(upload.tus),
      });
      return { result: this.#get(upload.id) as UploadRecord, uploadId: upload.id };
    });
  }

  /**
   * Runs `change` and, when it changed something (`uploadId` set), writes `event` in the same
   * transaction; listeners hear of it once committed.
   */
  #withEvent<T>(
    event: EventDraft | undefined,
    change: () => { result: T; uploadId?: string | undefined },
  ): T {
    if (event === undefined) return change().result;
    const written = this.#db.transaction(() => {
      const { result, uploadId } = change();
      if (uploadId === undefined) return { result, row: undefined };
      const values = newEventValues(event, Date.now());
      const subject = this.#sql("SELECT owner, metadata FROM uploads WHERE id = ?").get(uploadId) as
        | { owner: string | null; metadata: string | null }
        | undefined;
      const row: EventRow = eventRowOf(values, { uploadId, ...subject });
      this.#sql(
        `INSERT INTO webhook_events (id, upload_id, type, owner, metadata, data, created_at)
           VALUES (@id, @upload_id, @type, @owner, @metadata, @data, @created_at)`,
      ).run({ ...row, seq: undefined });
      return { result, row };
    })();
    this.#committed.announce(written.row);
    return written.result;
  }

  onEventCommitted(listener: (event: UploadEvent) => void): () => void {
    return this.#committed.on(listener);
  }

  #get(id: string): UploadRecord | undefined {
    const row = this.#sql("SELECT * FROM uploads WHERE id = ?").get(id) as UploadRow | undefined;
    return row === undefined ? undefined : rowToUpload(row);
  }

  async getUpload(id: string, signal: AbortSignal): Promise<UploadRecord | undefined> {
    signal.throwIfAborted();
    return this.#get(id);
  }

  async listUploads(
    options: { limit: number; states?: readonly UploadState[]; owner?: string },
    signal: AbortSignal,
  ): Promise<UploadRecord[]> {
    signal.throwIfAborted();
    const states = options.states ?? [];
    const conditions: string[] = [];
    if (states.length > 0) conditions.push(`state IN (${states.map(() => "?").join(", ")})`);
    if (options.owner !== undefined) conditions.push("owner = ?");
    const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
    const rows = this.#sql(`SELECT * FROM uploads ${where} ORDER BY created_at DESC LIMIT ?`).all(
      ...states,
      ...(options.owner === undefined ? [] : [options.owner]),
      options.limit,
    ) as UploadRow[];
    return rows.map(rowToUpload);
  }

  async countOpenUploads(creator: string, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const row = this.#sql(
      "SELECT COUNT(*) AS count FROM uploads WHERE creator = ? AND state IN ('uploading', 'completing')",
    ).get(creator) as { count: number };
    return row.count;
  }

  async countUploadsByState(signal: AbortSignal): Promise<Record<UploadState, number>> {
    signal.throwIfAborted();
    const rows = this.#sql("SELECT state, COUNT(*) AS count FROM uploads GROUP BY state").all() as Array<{
      state: UploadState;
      count: number;
    }>;
    return countsByState(rows);
  }

  async transition(
    id: string,
    from: readonly UploadState[],
    to: UploadState,
    patch: UploadPatch,
    signal: AbortSignal,
    event?: EventDraft,
  ): Promise<UploadRecord | undefined> {
    signal.throwIfAborted();
    const columns = patchToColumns(patch);
    const sets = ["state = ?", "updated_at = ?", ...columns.map(([column]) => `${column} = ?`)].join(", ");
    return this.#withEvent(event, () => {
      const result = this.#sql(
        `UPDATE uploads SET ${sets} WHERE id = ? AND state IN (${from.map(() => "?").join(", ")})`,
      ).run(to, Date.now(), ...columns.map(([, value]) => value), id, ...from);
      return result.changes === 1 ? { result: this.#get(id), uploadId: id } : { result: undefined };
    });
  }

  async patchUpload(id: string, patch: UploadPatch, signal: AbortSignal, event?: EventDraft): Promise<void> {
    signal.throwIfAborted();
    const columns = patchToColumns(patch);
    if (columns.length === 0 && event === undefined) return;
    const sets = ["updated_at = ?", ...columns.map(([column]) => `${column} = ?`)].join(", ");
    this.#withEvent(event, () => {
      const result = this.#sql(`UPDATE uploads SET ${sets} WHERE id = ?`).run(
        Date.now(),
        ...columns.map(([, value]) => value),
        id,
      );
      return { result: undefined, uploadId: result.changes === 1 ? id : undefined };
    });
  }

  async recordSegment(id: string, segment: StoredSegment, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    // A segment record is a hint, not the truth: cleanup lists storage, and the segment file is
    // not fsynced either. So it commits without waiting for the disk (WAL keeps it ordered and
    // crash-safe for the process); the next FULL commit (any state change) makes it durable.
    // This fsync per segment blocked the event loop for ~1 ms each in profiles.
    this.#db.pragma("synchronous = NORMAL");
    try {
      this.#sql(
        `INSERT INTO segments (upload_id, idx, size, sha256, received_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (upload_id, idx) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
           received_at = excluded.received_at`,
      ).run(id, segment.index, segment.size, segment.sha256, Date.now());
    } finally {
      this.#db.pragma("synchronous = FULL");
    }
  }

  async forgetSegment(id: string, index: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#sql("DELETE FROM segments WHERE upload_id = ? AND idx = ?").run(id, index);
  }

  async forgetAllSegments(id: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#sql("DELETE FROM segments WHERE upload_id = ?").run(id);
  }

  async tallySegments(id: string, signal: AbortSignal): Promise<SegmentTally> {
    signal.throwIfAborted();
    const row = this.#sql(
      "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM segments WHERE upload_id = ?",
    ).get(id) as { count: number; bytes: number };
    return { count: row.count, bytes: row.bytes };
  }

  async listRecordedSegments(id: string, signal: AbortSignal): Promise<StoredSegment[]> {
    signal.throwIfAborted();
    return this.#sql(
      'SELECT idx AS "index", size, sha256 FROM segments WHERE upload_id = ? ORDER BY idx',
    ).all(id) as StoredSegment[];
  }

  async listExpired(now: number, limit: number, signal: AbortSignal): Promise<UploadRecord[]> {
    signal.throwIfAborted();
    const rows = this.#sql(
      "SELECT * FROM uploads WHERE state = 'uploading' AND expires_at <= ? ORDER BY expires_at LIMIT ?",
    ).all(now, limit) as UploadRow[];
    return rows.map(rowToUpload);
  }

  async listCleanupDue(now: number, limit: number, signal: AbortSignal): Promise<UploadRecord[]> {
    signal.throwIfAborted();
    const rows = this.#sql(
      `SELECT * FROM uploads WHERE state = 'cancelling' AND (next_cleanup_at IS NULL OR next_cleanup_at <= ?)
         ORDER BY next_cleanup_at LIMIT ?`,
    ).all(now, limit) as UploadRow[];
    return rows.map(rowToUpload);
  }

  async purgeFinished(before: number, limit: number, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    return this.#sql(
      `DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE state IN ('cancelled', 'failed')
           AND expires_at <= ? AND updated_at <= ? LIMIT ?)`,
    ).run(before, before, limit).changes;
  }

  async pruneEvents(before: number, limit: number, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    // Delivery rows go with their event (ON DELETE CASCADE; foreign keys are on).
    return this.#sql(
      `DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM webhook_events e WHERE e.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.state = 'pending')
           ORDER BY e.created_at LIMIT ?)`,
    ).run(before, limit).changes;
  }

  async listStuckCompleting(signal: AbortSignal): Promise<UploadRecord[]> {
    signal.throwIfAborted();
    const rows = this.#sql("SELECT * FROM uploads WHERE state = 'completing'").all() as UploadRow[];
    return rows.map(rowToUpload);
  }

  async createVideo(video: VideoInfo & { storageKey: string }, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#sql(
      `INSERT INTO videos (id, upload_id, filename, content_type, size, sha256, storage_key, probe, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      video.videoId,
      video.uploadId,
      video.filename,
      video.contentType,
      video.size,
      video.sha256,
      video.storageKey,
      JSON.stringify(video.probe),
      Date.parse(video.createdAt),
    );
  }

  async getVideo(id: string, signal: AbortSignal): Promise<(VideoInfo & { storageKey: string }) | undefined> {
    signal.throwIfAborted();
    const row = this.#sql("SELECT * FROM videos WHERE id = ?").get(id) as VideoRow | undefined;
    return row === undefined ? undefined : rowToVideo(row);
  }

  async deleteVideo(id: string, signal: AbortSignal, event?: EventDraft): Promise<void> {
    signal.throwIfAborted();
    this.#withEvent(event, () => {
      const gone = this.#sql("DELETE FROM videos WHERE id = ? RETURNING upload_id").get(id) as
        | { upload_id: string }
        | undefined;
      return { result: undefined, uploadId: gone?.upload_id };
    });
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
