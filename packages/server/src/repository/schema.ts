/**
 * Versioned migrations. Each runs once, in order, inside a transaction, and is recorded in
 * `schema_migrations`. Never edit a shipped migration: add the next one.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** The one piece of DDL the two databases spell differently. */
export type SqlDialect = "sqlite" | "postgres";

/** A migration's SQL for one database: `{{serial_primary_key}}` becomes its auto-increment key. */
export function migrationSql(migration: Migration, dialect: SqlDialect): string {
  const serial = dialect === "sqlite" ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY";
  return migration.sql.replaceAll("{{serial_primary_key}}", serial);
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
  {
    version: 5,
    name: "application owners and metadata, event outbox",
    // `owner` so far held the open-upload cap's key (an API key's or client address's
    // fingerprint): it becomes `creator`, and `owner` is the application's user. Events are
    // written in the same transaction as the state change they report; `webhook_deliveries`
    // holds one row per event and receiver, made by the dispatcher (the URLs live in config);
    // its `scheduled_at` (fan-out or replay) starts the retry window.
    sql: `
      ALTER TABLE uploads RENAME COLUMN owner TO creator;
      ALTER TABLE uploads ADD COLUMN owner TEXT;
      ALTER TABLE uploads ADD COLUMN metadata TEXT;
      CREATE INDEX uploads_app_owner ON uploads (owner, created_at);
      CREATE TABLE webhook_events (
        seq {{serial_primary_key}},
        id TEXT NOT NULL UNIQUE,
        upload_id TEXT NOT NULL,
        type TEXT NOT NULL,
        owner TEXT,
        metadata TEXT,
        data TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        fanned_out_at BIGINT
      );
      CREATE INDEX webhook_events_unfanned ON webhook_events (fanned_out_at, seq);
      CREATE INDEX webhook_events_upload ON webhook_events (upload_id, seq);
      CREATE INDEX webhook_events_created ON webhook_events (created_at);
      CREATE TABLE webhook_deliveries (
        event_seq BIGINT NOT NULL REFERENCES webhook_events(seq) ON DELETE CASCADE,
        endpoint TEXT NOT NULL,
        upload_id TEXT NOT NULL,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        scheduled_at BIGINT NOT NULL,
        claimed_by TEXT,
        claimed_until BIGINT,
        last_status INTEGER,
        last_error TEXT,
        delivered_at BIGINT,
        PRIMARY KEY (event_seq, endpoint)
      );
      CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
      CREATE INDEX webhook_deliveries_order ON webhook_deliveries (upload_id, endpoint, state, event_seq);
    `,
  },
];
