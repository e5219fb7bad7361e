/**
 * Versioned migrations. Each runs once, in order, inside a transaction, and is recorded in
 * `schema_migrations`. Never edit a shipped migration: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "uploads, segments, videos",
    sql: `
      CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size BIGINT NOT NULL,
        segment_size BIGINT NOT NULL,
        segment_count INTEGER NOT NULL,
        state TEXT NOT NULL,
        storage_ref TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        video_id TEXT,
        cancel_reason TEXT,
        cancel_report TEXT,
        next_cleanup_at BIGINT,
        error_code TEXT,
        error_message TEXT
      );
      CREATE INDEX uploads_state_expires ON uploads (state, expires_at);
      CREATE INDEX uploads_state_cleanup ON uploads (state, next_cleanup_at);
      CREATE TABLE segments (
        upload_id TEXT NOT NULL REFERENCES uploads(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        size BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        received_at BIGINT NOT NULL,
        PRIMARY KEY (upload_id, idx)
      );
      CREATE TABLE videos (
        id TEXT PRIMARY KEY,
        upload_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        storage_key TEXT NOT NULL,
        probe TEXT NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: "server instances, in-flight writes",
    // Used by several servers sharing PostgreSQL (see cluster/postgres-coordination.ts); a
    // single server on SQLite creates the tables and never writes them.
    sql: `
      CREATE TABLE server_instances (
        instance_id TEXT PRIMARY KEY,
        started_at BIGINT NOT NULL,
        heartbeat_at BIGINT NOT NULL
      );
      CREATE TABLE inflight_writes (
        id TEXT PRIMARY KEY,
        upload_id TEXT NOT NULL,
        instance_id TEXT NOT NULL,
        started_at BIGINT NOT NULL
      );
      CREATE INDEX inflight_writes_upload ON inflight_writes (upload_id);
      CREATE INDEX inflight_writes_instance ON inflight_writes (instance_id);
    `,
  },
  {
    version: 3,
    name: "upload owners",
    // Who created an upload, so a cap on open uploads can hold per API key or client address.
    sql: `
      ALTER TABLE uploads ADD COLUMN owner TEXT;
      CREATE INDEX uploads_owner_state ON uploads (owner, state);
    `,
  },
  {
    version: 4,
    name: "tus uploads",
    // JSON (metadata header, concatenation, the partial segment's size) for uploads made through /files/.
    sql: `
      ALTER TABLE uploads ADD COLUMN tus TEXT;
    `,
  },
];
