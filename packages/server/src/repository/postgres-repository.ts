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
import pg from "pg";
import { countsByState } from "./counts.js";
import { CommittedEvents, eventRowOf, newEventValues } from "./event-rows.js";
import { patchToColumns, rowToUpload, rowToVideo, type UploadRow, type VideoRow } from "./rows.js";
import { migrationSql, migrations } from "./schema.js";

export interface PostgresRepositoryOptions {
  /** Pool settings other than the connection string (size, timeouts, ssl). */
  pool?: Omit<pg.PoolConfig, "connectionString">;
  /**
   * Called when an idle pooled connection fails (server restart, terminated backend). The pool
   * drops that connection and the next query opens a new one; without a listener the error
   * would crash the process.
   */
  onIdleError?: (error: Error) => void;
}

/**
 * The key of the transaction-scoped advisory lock every server takes while migrating, so two
 * servers starting at once against one database migrate one after the other. Advisory locks
 * are per database, so this only serialises servers sharing a database. ("clnc" in ASCII.)
 */
export const migrationLockKey = 0x636c6e63;

/**
 * Upload metadata in PostgreSQL, for several server instances sharing one database. Every
 * state change is one statement, so `transition` is a compare-and-set under READ COMMITTED:
 * a concurrent UPDATE of the same row waits for the first to commit, re-checks the `state`
 * condition against the new row and matches nothing.
 */
export class PostgresUploadRepository implements UploadRepository {
  readonly #pool: pg.Pool;
  readonly #committed = new CommittedEvents();
  #closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Opens a pool and brings the schema up to date (the same versioned migrations as SQLite). */
  static async connect(
    connectionString: string,
    options: PostgresRepositoryOptions = {},
  ): Promise<PostgresUploadRepository> {
    const pool = new pg.Pool({ ...options.pool, connectionString });
    pool.on("error", options.onIdleError ?? (() => {}));
    const repository = new PostgresUploadRepository(pool);
    try {
      await repository.#migrate();
    } catch (error) {
      await repository.close();
      throw error;
    }
    return repository;
  }

  /**
   * Runs the shared migration list from `schema.ts` in one transaction: all pending versions
   * land together or none does (PostgreSQL DDL is transactional).
   */
  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      // Held until COMMIT/ROLLBACK: a second server waits here, then sees the versions applied.
      await client.query("SELECT pg_advisory_xact_lock($1)", [migrationLockKey]);
      await client.query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
      );
      const { rows } = await client.query<{ version: number }>("SELECT version FROM schema_migrations");
      const applied = new Set(rows.map((row) => row.version));
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        // No parameters: the simple query protocol, so a migration may hold several statements.
        await client.query(migrationSql(migration, "postgres"));
        await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [
          migration.version,
          migration.name,
          Date.now(),
        ]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /**
   * One statement on a pooled connection. pg cannot abandon a query mid-flight, so an already
   * aborted signal stops it before it is sent; one aborted later lets it finish, as a statement
   * that has committed must not be reported as failed.
   */
  async #query<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[],
    signal: AbortSignal,
  ): Promise<pg.QueryResult<R>> {
    signal.throwIfAborted();
    return this.#pool.query<R>(sql, params);
  }

  /**
   * Runs `change` (an `INSERT`, `UPDATE` or `DELETE … RETURNING`) and, when `event` is given,
   * writes it to the outbox in the same statement (a data-modifying CTE: both or neither
   * commit), once per row `subject` yields — none when the change matched nothing.
   * `subject` reads `upload_id, owner, metadata` from `changed`; the default fits `uploads`.
   */
  async #changeWithEvent<R extends pg.QueryResultRow>(
    change: string,
    params: unknown[],
    event: EventDraft | undefined,
    signal: AbortSignal,
    subject = "SELECT id AS upload_id, owner, metadata FROM changed",
    result = "SELECT * FROM changed",
  ): Promise<R[]> {
    if (event === undefined) return (await this.#query<R>(change, params, signal)).rows;
    const values = newEventValues(event, Date.now());
    const n = params.length;
    const { rows } = await this.#query<
      R & { event_upload_id: string; event_owner: string | null; event_metadata: string | null }
    >(
      `WITH changed AS (${change}),
         subject AS (${subject}),
         event AS (INSERT INTO webhook_events (id, upload_id, type, owner, metadata, data, created_at)
           SELECT $${n + 1}, upload_id, $${n + 2}, owner, metadata, $${n + 3}, $${n + 4} FROM subject)
       SELECT result.*, subject.upload_id AS event_upload_id, subject.owner AS event_owner,
         subject.metadata AS event_metadata
       FROM (${result}) AS result, subject`,
      [...params, values.id, values.type, values.data, values.createdAt],
      signal,
    );
    for (const row of rows) {
      this.#committed.announce(
        eventRowOf(values, {
          uploadId: row.event_upload_id,
          owner: row.event_owner,
          metadata: row.event_metadata,
        }),
      );
    }
    return rows;
  }

  onEventCommitted(listener: (event: UploadEvent) => void): () => void {
    return this.#committed.on(listener);
  }

  async createUpload(upload: NewUpload, signal: AbortSignal, event?: EventDraft): Promise<UploadRecord> {
    const rows = await this.#changeWithEvent<UploadRow>(
      `INSERT INTO uploads (id, token_hash, filename, content_type, size, segment_size, segment_count, state,
         storage_ref, created_at, expires_at, updated_at, creator, owner, metadata, tus)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       RETURNING *`,
      [
        upload.id,
        upload.tokenHash,
        upload.filename,
        upload.contentType,
        upload.size,
        upload.segmentSize,
        upload.segmentCount,
        upload.state ?? "uploading",
        upload.storageRef,
        upload.createdAt,
        upload.expiresAt,
        Date.now(),
        upload.creator ?? null,
        upload.owner ?? null,
        upload.metadata === undefined ? null : JSON.stringify(upload.metadata),
        upload.tus === undefined ? null : JSON.stringify(upload.tus),
      ],
      event,
      signal,
    );
    return rowToUpload(rows[0] as UploadRow);
  }

  async getUpload(id: string, signal: AbortSignal): Promise<UploadRecord | undefined> {
    const { rows } = await this.#query<UploadRow>("SELECT * FROM uploads WHERE id = $1", [id], signal);
    const row = rows[0];
    return row === undefined ? undefined : rowToUpload(row);
  }

  async listUploads(
    options: { limit: number; states?: readonly UploadState[]; owner?: string },
    signal: AbortSignal,
  ): Promise<UploadRecord[]> {
    const states = options.states ?? [];
    const conditions: string[] = [];
    const params: unknown[] = [];
    if (states.length > 0) {
      params.push(states);
      conditions.push(`state = ANY($${params.length}::text[])`);
    }
    if (options.owner !== undefined) {
      params.push(options.owner);
      conditions.push(`owner = $${params.length}`);
    }
    params.push(options.limit);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
    const { rows } = await this.#query<UploadRow>(
      `SELECT * FROM uploads ${where} ORDER BY created_at DESC LIMIT $${params.length}`,
      params,
      signal,
    );
    return rows.map(rowToUpload);
  }

  async countOpenUploads(creator: string, signal: AbortSignal): Promise<number> {
    const { rows } = await this.#query<{ count: string }>(
      "SELECT COUNT(*) AS count FROM uploads WHERE creator = $1 AND state IN ('uploading', 'completing')",
      [creator],
      signal,
    );
    return Number(rows[0]?.count ?? 0);
  }

  async countUploadsByState(signal: AbortSignal): Promise<Record<UploadState, number>> {
    // COUNT is bigint: pg hands it back as a string.
    const { rows } = await this.#query<{ state: UploadState; count: string }>(
      "SELECT state, COUNT(*) AS count FROM uploads GROUP BY state",
      [],
      signal,
    );
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
    const columns = patchToColumns(patch);
    const sets = ["state = $1", "updated_at = $2", ...columns.map(([column], i) => `${column} = $${i + 3}`)];
    const n = columns.length + 3;
    const rows = await this.#changeWithEvent<UploadRow>(
      `UPDATE uploads SET ${sets.join(", ")} WHERE id = $${n} AND state = ANY($${n + 1}::text[]) RETURNING *`,
      [to, Date.now(), ...columns.map(([, value]) => value), id, [...from]],
      event,
      signal,
    );
    const row = rows[0];
    return row === undefined ? undefined : rowToUpload(row);
  }

  async patchUpload(id: string, patch: UploadPatch, signal: AbortSignal, event?: EventDraft): Promise<void> {
    const columns = patchToColumns(patch);
    if (columns.length === 0 && event === undefined) {
      signal.throwIfAborted();
      return;
    }
    const sets = ["updated_at = $1", ...columns.map(([column], i) => `${column} = $${i + 2}`)];
    await this.#changeWithEvent(
      `UPDATE uploads SET ${sets.join(", ")} WHERE id = $${columns.length + 2} RETURNING *`,
      [Date.now(), ...columns.map(([, value]) => value), id],
      event,
      signal,
    );
  }

  async recordSegment(id: string, segment: StoredSegment, signal: AbortSignal): Promise<void> {
    await this.#query(
      `INSERT INTO segments (upload_id, idx, size, sha256, received_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (upload_id, idx) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
         received_at = excluded.received_at`,
      [id, segment.index, segment.size, segment.sha256, Date.now()],
      signal,
    );
  }

  async forgetSegment(id: string, index: number, signal: AbortSignal): Promise<void> {
    await this.#query("DELETE FROM segments WHERE upload_id = $1 AND idx = $2", [id, index], signal);
  }

  async forgetAllSegments(id: string, signal: AbortSignal): Promise<void> {
    await this.#query("DELETE FROM segments WHERE upload_id = $1", [id], signal);
  }

  async tallySegments(id: string, signal: AbortSignal): Promise<SegmentTally> {
    // COUNT is bigint and SUM(bigint) is numeric: pg hands both back as strings.
    const { rows } = await this.#query<{ count: string; bytes: string }>(
      "SELECT COUNT(*) AS count, COALESCE(SUM(size), 0) AS bytes FROM segments WHERE upload_id = $1",
      [id],
      signal,
    );
    const row = rows[0];
    return { count: Number(row?.count ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  async listRecordedSegments(id: string, signal: AbortSignal): Promise<StoredSegment[]> {
    const { rows } = await this.#query<{ index: number; size: string; sha256: string }>(
      'SELECT idx AS "index", size, sha256 FROM segments WHERE upload_id = $1 ORDER BY idx',
      [id],
      signal,
    );
    return rows.map((row) => ({ index: row.index, size: Number(row.size), sha256: row.sha256 }));
  }

  async listExpired(now: number, limit: number, signal: AbortSignal): Promise<UploadRecord[]> {
    const { rows } = await this.#query<UploadRow>(
      "SELECT * FROM uploads WHERE state = 'uploading' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
      [now, limit],
      signal,
    );
    return rows.map(rowToUpload);
  }

  async listCleanupDue(now: number, limit: number, signal: AbortSignal): Promise<UploadRecord[]> {
    // NULLS FIRST: what SQLite does by default, and a cleanup never scheduled (a crash mid-cancel) is the oldest debt.
    const { rows } = await this.#query<UploadRow>(
      `SELECT * FROM uploads WHERE state = 'cancelling' AND (next_cleanup_at IS NULL OR next_cleanup_at <= $1)
       ORDER BY next_cleanup_at NULLS FIRST LIMIT $2`,
      [now, limit],
      signal,
    );
    return rows.map(rowToUpload);
  }

  async purgeFinished(before: number, limit: number, signal: AbortSignal): Promise<number> {
    const result = await this.#query(
      `DELETE FROM uploads WHERE id IN (SELECT id FROM uploads WHERE state IN ('cancelled', 'failed')
         AND expires_at <= $1 AND updated_at <= $1 LIMIT $2)`,
      [before, limit],
      signal,
    );
    return result.rowCount ?? 0;
  }

  async pruneEvents(before: number, limit: number, signal: AbortSignal): Promise<number> {
    // Delivery rows go with their event (ON DELETE CASCADE).
    const { rowCount } = await this.#query(
      `DELETE FROM webhook_events WHERE seq IN (SELECT seq FROM webhook_events e WHERE e.created_at < $1
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_seq = e.seq AND d.state = 'pending')
           ORDER BY e.created_at LIMIT $2)`,
      [before, limit],
      signal,
    );
    return rowCount ?? 0;
  }

  async listStuckCompleting(signal: AbortSignal): Promise<UploadRecord[]> {
    const { rows } = await this.#query<UploadRow>(
      "SELECT * FROM uploads WHERE state = 'completing'",
      [],
      signal,
    );
    return rows.map(rowToUpload);
  }

  async createVideo(video: VideoInfo & { storageKey: string }, signal: AbortSignal): Promise<void> {
    await this.#query(
      `INSERT INTO videos (id, upload_id, filename, content_type, size, sha256, storage_key, probe, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        video.videoId,
        video.uploadId,
        video.filename,
        video.contentType,
        video.size,
        video.sha256,
        video.storageKey,
        JSON.stringify(video.probe),
        Date.parse(video.createdAt),
      ],
      signal,
    );
  }

  async getVideo(id: string, signal: AbortSignal): Promise<(VideoInfo & { storageKey: string }) | undefined> {
    const { rows } = await this.#query<VideoRow>("SELECT * FROM videos WHERE id = $1", [id], signal);
    const row = rows[0];
    return row === undefined ? undefined : rowToVideo(row);
  }

  async deleteVideo(id: string, signal: AbortSignal, event?: EventDraft): Promise<void> {
    await this.#changeWithEvent(
      "DELETE FROM videos WHERE id = $1 RETURNING upload_id",
      [id],
      event,
      signal,
      `SELECT changed.upload_id, uploads.owner, uploads.metadata
         FROM changed LEFT JOIN uploads ON uploads.id = changed.upload_id`,
    );
  }

  /** Ends the pool (waits for checked-out connections to be released). Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }
}
