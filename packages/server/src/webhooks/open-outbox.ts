import { join } from "node:path";
import type { WebhookOutbox } from "./outbox.js";
import { PostgresWebhookOutbox } from "./postgres-outbox.js";
import { SqliteWebhookOutbox } from "./sqlite-outbox.js";

/**
 * The outbox of the database a server (or `cleancut serve` with the same flags) uses: PostgreSQL
 * for a postgres URL, else the SQLite file under `dataDir` (named as in `openRepository`). The
 * repository must have been opened first: it creates the file and runs the migrations.
 */
export function openWebhookOutbox(databaseUrl: string | undefined, dataDir: string): WebhookOutbox {
  if (databaseUrl !== undefined && /^postgres(?:ql)?:\/\//i.test(databaseUrl)) {
    return new PostgresWebhookOutbox(databaseUrl);
  }
  return new SqliteWebhookOutbox(join(dataDir, "cleancut.sqlite"));
}
