import { EventNotFoundError } from "@cleancut/core";
import Database from "better-sqlite3";
import { statementCache } from "../repository/statement-cache.js";
import {
  type AttemptRecord,
  type ClaimedDelivery,
  type ClaimRequest,
  type ClaimRow,
  claimFromRow,
  type DeliveryListing,
  type ListFilter,
  type ListingRow,
  listingFromRow,
  listingSelect,
  removedEndpointError,
  type WebhookOutbox,
} from "./outbox.js";

/**
 * The outbox on the server's SQLite file, through a connection of its own: the repository's
 * handle stays private to it (and may be wrapped, e.g. by the fault layer in tests), and the CLI
 * opens the outbox the same way. WAL lets both connections share the file; better-sqlite3 is
 * synchronous, so in one process their statements never interleave, and `busy_timeout` covers
 * another process (a `cleancut webhooks replay` while the server runs). One server owns a SQLite
 * file, so a plain UPDATE is a claim.
 */
export class SqliteWebhookOutbox implements WebhookOutbox {
  readonly #db: Database.Database;
  readonly #sql: (sql: string) => Database.Statement;

  constructor(path: string) {
    this.#db = new Database(path, { fileMustExist: true });
    this.#sql = statementCache(this.#db);
    this.#db.pragma("journal_mode = WAL");
    this.#db.pragma("synchronous = FULL");
    this.#db.pragma("busy_timeout = 5000");
  }

  async fanOut(endpoints: readonly string[], now: number, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const fresh = this.#sql(
      "SELECT seq, upload_id FROM webhook_events WHERE fanned_out_at IS NULL ORDER BY seq LIMIT 1000",
    );
    const insert = this.#sql(
      `INSERT OR IGNORE INTO webhook_deliveries (event_seq, endpoint, upload_id, state, attempts, next_attempt_at, scheduled_at)
         VALUES (?, ?, ?, 'pending', 0, ?, ?)`,
    );
    const mark = this.#sql("UPDATE webhook_events SET fanned_out_at = ? WHERE seq = ?");
    return this.#db.transaction(() => {
      const events = fresh.all() as Array<{ seq: number; upload_id: string }>;
      for (const event of events) {
        for (const endpoint of endpoints) insert.run(event.seq, endpoint, event.upload_id, now, now);
        mark.run(now, event.seq);
      }
      return events.length;
    })();
  }

  async claim(request: ClaimRequest, signal: AbortSignal): Promise<ClaimedDelivery[]> {
    signal.throwIfAborted();
    const due = this.#sql(
      `SELECT d.event_seq, d.endpoint, d.attempts, d.scheduled_at, e.*
         FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
        WHERE d.state = 'pending' AND d.next_attempt_at <= @now
          AND (d.claimed_until IS NULL OR d.claimed_until < @now)
          AND d.endpoint IN (SELECT value FROM json_each(@endpoints))
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                           WHERE p.upload_id = d.upload_id AND p.endpoint = d.endpoint
                             AND p.state = 'pending' AND p.event_seq < d.event_seq)
        ORDER BY d.next_attempt_at, d.event_seq
        LIMIT @limit`,
    );
    const take = this.#sql(
      "UPDATE webhook_deliveries SET claimed_by = ?, claimed_until = ? WHERE event_seq = ? AND endpoint = ?",
    );
    return this.#db.transaction(() => {
      const rows = due.all({
        now: request.now,
        endpoints: JSON.stringify(request.endpoints),
        limit: request.limit,
      }) as ClaimRow[];
      for (const row of rows)
        take.run(request.instanceId, request.now + request.leaseMs, row.event_seq, row.endpoint);
      return rows.map((row) => claimFromRow(row, request.instanceId));
    })();
  }

  async record(claim: ClaimedDelivery, outcome: AttemptRecord, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (outcome.state === "delivered") {
      this.#sql(
        `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = ?,
             delivered_at = ?, claimed_by = NULL, claimed_until = NULL
           WHERE event_seq = ? AND endpoint = ? AND claimed_by = ?`,
      ).run(outcome.status, outcome.at, claim.eventSeq, claim.endpoint, claim.claimedBy);
      return;
    }
    this.#sql(
      `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?,
           next_attempt_at = ?, claimed_by = NULL, claimed_until = NULL
         WHERE event_seq = ? AND endpoint = ? AND claimed_by = ?`,
    ).run(
      outcome.state,
      outcome.status ?? null,
      outcome.error,
      outcome.nextAttemptAt,
      claim.eventSeq,
      claim.endpoint,
      claim.claimedBy,
    );
  }

  async release(claim: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    this.#sql(
      `UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL
         WHERE event_seq = ? AND endpoint = ? AND claimed_by = ?`,
    ).run(claim.eventSeq, claim.endpoint, claim.claimedBy);
  }

  async retireRemovedEndpoints(
    endpoints: readonly string[],
    scheduledBefore: number,
    signal: AbortSignal,
  ): Promise<number> {
    signal.throwIfAborted();
    return this.#sql(
      `UPDATE webhook_deliveries SET state = 'dead', last_error = ?, claimed_by = NULL, claimed_until = NULL
       WHERE state = 'pending' AND scheduled_at < ? AND endpoint NOT IN (SELECT value FROM json_each(?))`,
    ).run(removedEndpointError, scheduledBefore, JSON.stringify(endpoints)).changes;
  }

  async list(filter: ListFilter, signal: AbortSignal): Promise<DeliveryListing[]> {
    signal.throwIfAborted();
    const where = filter.failedOnly ? "WHERE d.state = 'dead' OR d.last_error IS NOT NULL" : "";
    const rows = this.#sql(`${listingSelect} ${where} ORDER BY e.seq DESC, d.endpoint LIMIT ?`).all(
      filter.limit,
    ) as ListingRow[];
    return rows.map(listingFromRow);
  }

  async replay(eventId: string, now: number, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const event = this.#sql("SELECT seq FROM webhook_events WHERE id = ?").get(eventId) as
      | { seq: number }
      | undefined;
    if (event === undefined) throw new EventNotFoundError(`no webhook event ${eventId}`);
    return this.#sql(
      `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, scheduled_at = ?,
           claimed_by = NULL, claimed_until = NULL, delivered_at = NULL
         WHERE event_seq = ?`,
    ).run(now, now, event.seq).changes;
  }

  async oldestPendingCreatedAt(signal: AbortSignal): Promise<number | undefined> {
    signal.throwIfAborted();
    const row = this.#sql(
      `SELECT MIN(created_at) AS oldest FROM (
           SELECT MIN(created_at) AS created_at FROM webhook_events WHERE fanned_out_at IS NULL
           UNION ALL
           SELECT MIN(e.created_at) FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
            WHERE d.state = 'pending')`,
    ).get() as { oldest: number | null };
    return row.oldest === null ? undefined : Number(row.oldest);
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }
}
