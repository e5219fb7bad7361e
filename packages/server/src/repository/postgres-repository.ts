import type {
  NewUpload,
  SegmentTally,
  StoredSegment,
  UploadPatch,
  UploadRecord,
  UploadRepository,
  UploadState,
  VideoInfo,
} from "@cleancut/core";
import pg from "pg";
import { countsByState } from "./counts.js";
import { patchToColumns, rowToUpload, rowToVideo, type UploadRow, type VideoRow } from "./rows.js";
import { migrations } from "./schema.js";

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
        await client.query(migration.sql);
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

  async createUpload(upload: NewUpload, signal: AbortSignal): Promise<UploadRecord> {
    const { rows } = await this.#query<UploadRow>(
      `INSERT INTO uploads (id, token_hash, filename, content_type, size, segment_size, segment_count, state,
         storage_ref, created_at, expires_at, updated_at, owner, tus)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
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
        upload.owner ?? null,
        upload.tus === undefined ? null : JSON.stringify(upload.tus),
      ],
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
    options: { limit: number; states?: readonly UploadState[] },
    signal: AbortSignal,
  ): Promise<UploadRecord[]> {
    const states = options.states ?? [];
    const { rows } =
      states.length > 0
        ? await this.#query<UploadRow>(
            "SELECT * FROM uploads WHERE state = ANY($1::text[]) ORDER BY created_at DESC LIMIT $2",
            [states, options.limit],
            signal,
          )
        : await this.#query<UploadRow>(
            "SELECT * FROM uploads ORDER BY created_at DESC LIMIT $1",
            [options.limit],
            signal,
          );
    return rows.map(rowToUpload);
  }

  async countOpenUploads(owner: string, signal: AbortSignal): Promise<number> {
    const { rows } = await this.#query<{ count: string }>(
      "SELECT COUNT(*) AS count FROM uploads WHERE owner = $1 AND state IN ('uploading', 'completing')",
      [owner],
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
  ): Promise<UploadRecord | undefined> {
    const columns = patchToColumns(patch);
    const sets = ["state = $1", "updated_at = $2", ...columns.map(([column], i) => `${column} = $${i + 3}`)];
    const n = columns.length + 3;
    const { rows } = await this.#query<UploadRow>(
      `UPDATE uploads SET ${sets.join(", ")} WHERE id = $${n} AND state = ANY($${n + 1}::text[]) RETURNING *`,
      [to, Date.now(), ...columns.map(([, value]) => value), id, [...from]],
      signal,
    );
    const row = rows[0];
    return row === undefined ? undefined : rowToUpload(row);
  }

  async patchUpload(id: string, patch: UploadPatch, signal: AbortSignal): Promise<void> {
    const columns = patchToColumns(patch);
    if (columns.length === 0) {
      signal.throwIfAborted();
      return;
    }
    const sets = ["updated_at = $1", ...columns.map(([column], i) => `${column} = $${i + 2}`)];
    await this.#query(
      `UPDATE uploads SET ${sets.join(", ")} WHERE id = $${columns.length + 2}`,
      [Date.now(), ...columns.map(([, value]) => value), id],
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

  async deleteVideo(id: string, signal: AbortSignal): Promise<void> {
    await this.#query("DELETE FROM videos WHERE id = $1", [id], signal);
  }

  /** Ends the pool (waits for checked-out connections to be released). Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }
}
