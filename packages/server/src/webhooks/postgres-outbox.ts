import { EventNotFoundError } from "@cleancut/core";
import pg from "pg";
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
 * The outbox on PostgreSQL, through a small pool of its own: dispatching never takes a
 * connection the upload path is waiting for, and the CLI opens the outbox the same way.
 * Several instances share the tables: claims lock rows with `FOR UPDATE SKIP LOCKED` and hold a
 * lease (`claimed_by`, `claimed_until`), so each attempt is made by one instance and a crashed
 * instance's claims expire.
 */
export class PostgresWebhookOutbox implements WebhookOutbox {
  readonly #pool: pg.Pool;
  #closing: Promise<void> | undefined;

  constructor(connectionString: string) {
    this.#pool = new pg.Pool({ connectionString, max: 4 });
    // An idle connection that fails (database restart) is dropped; the next query opens another.
    this.#pool.on("error", () => {});
  }

  async #query<R extends pg.QueryResultRow>(sql: string, params: unknown[], signal: AbortSignal) {
    // pg cannot abandon a statement once sent: an abort stops the next one.
    signal.throwIfAborted();
    return this.#pool.query<R>(sql, params);
  }

  async fanOut(endpoints: readonly string[], now: number, signal: AbortSignal): Promise<number> {
    // FOR UPDATE without SKIP LOCKED: an instance fanning out a later event of an upload waits
    // for the one fanning out its earlier event, so a later delivery never exists without the
    // earlier one (which would let it be claimed first). Locks are taken in `seq` order: no deadlock.
    const { rowCount } = await this.#query(
      `WITH fresh AS (
         UPDATE webhook_events SET fanned_out_at = $1
          WHERE seq IN (SELECT seq FROM webhook_events WHERE fanned_out_at IS NULL ORDER BY seq LIMIT 1000 FOR UPDATE)
            AND fanned_out_at IS NULL
          RETURNING seq, upload_id
       ), made AS (
         INSERT INTO webhook_deliveries (event_seq, endpoint, upload_id, state, attempts, next_attempt_at, scheduled_at)
         SELECT fresh.seq, endpoint, fresh.upload_id, 'pending', 0, $1, $1
           FROM fresh CROSS JOIN unnest($2::text[]) AS endpoint
         ON CONFLICT DO NOTHING
       )
       SELECT seq FROM fresh`,
      [now, endpoints],
      signal,
    );
    return rowCount ?? 0;
  }

  async claim(request: ClaimRequest, signal: AbortSignal): Promise<ClaimedDelivery[]> {
    // SKIP LOCKED: rows another instance is claiming right now are left to it. A row it claimed
    // and committed meanwhile is re-checked against its new version (claimed_until in the future).
    const { rows } = await this.#query<ClaimRow>(
      `WITH due AS (
         SELECT d.event_seq, d.endpoint FROM webhook_deliveries d
          WHERE d.state = 'pending' AND d.next_attempt_at <= $1
            AND (d.claimed_until IS NULL OR d.claimed_until < $1)
            AND d.endpoint = ANY($2::text[])
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
                             WHERE p.upload_id = d.upload_id AND p.endpoint = d.endpoint
                               AND p.state = 'pending' AND p.event_seq < d.event_seq)
          ORDER BY d.next_attempt_at, d.event_seq
          LIMIT $3
          FOR UPDATE OF d SKIP LOCKED
       ), claimed AS (
         UPDATE webhook_deliveries d SET claimed_by = $4, claimed_until = $5
           FROM due WHERE d.event_seq = due.event_seq AND d.endpoint = due.endpoint
         RETURNING d.event_seq, d.endpoint, d.attempts, d.scheduled_at
       )
       SELECT claimed.*, e.* FROM claimed JOIN webhook_events e ON e.seq = claimed.event_seq
        ORDER BY claimed.event_seq`,
      [request.now, request.endpoints, request.limit, request.instanceId, request.now + request.leaseMs],
      signal,
    );
    return rows.map((row) => claimFromRow(row, request.instanceId));
  }

  async record(claim: ClaimedDelivery, outcome: AttemptRecord, signal: AbortSignal): Promise<void> {
    if (outcome.state === "delivered") {
      await this.#query(
        `UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $1,
           delivered_at = $2, claimed_by = NULL, claimed_until = NULL
         WHERE event_seq = $3 AND endpoint = $4 AND claimed_by = $5`,
        [outcome.status, outcome.at, claim.eventSeq, claim.endpoint, claim.claimedBy],
        signal,
      );
      return;
    }
    await this.#query(
      `UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, last_status = $2, last_error = $3,
         next_attempt_at = $4, claimed_by = NULL, claimed_until = NULL
       WHERE event_seq = $5 AND endpoint = $6 AND claimed_by = $7`,
      [
        outcome.state,
        outcome.status ?? null,
        outcome.error,
        outcome.nextAttemptAt,
        claim.eventSeq,
        claim.endpoint,
        claim.claimedBy,
      ],
      signal,
    );
  }

  async release(claim: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    await this.#query(
      `UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL
       WHERE event_seq = $1 AND endpoint = $2 AND claimed_by = $3`,
      [claim.eventSeq, claim.endpoint, claim.claimedBy],
      signal,
    );
  }

  async retireRemovedEndpoints(
    endpoints: readonly string[],
    scheduledBefore: number,
    signal: AbortSignal,
  ): Promise<number> {
    const { rowCount } = await this.#query(
      `UPDATE webhook_deliveries SET state = 'dead', last_error = $1, claimed_by = NULL, claimed_until = NULL
       WHERE state = 'pending' AND scheduled_at < $2 AND NOT (endpoint = ANY($3::text[]))`,
      [removedEndpointError, scheduledBefore, endpoints],
      signal,
    );
    return rowCount ?? 0;
  }

  async list(filter: ListFilter, signal: AbortSignal): Promise<DeliveryListing[]> {
    const where = filter.failedOnly ? "WHERE d.state = 'dead' OR d.last_error IS NOT NULL" : "";
    const { rows } = await this.#query<ListingRow>(
      `${listingSelect} ${where} ORDER BY e.seq DESC, d.endpoint LIMIT $1`,
      [filter.limit],
      signal,
    );
    return rows.map(listingFromRow);
  }

  async replay(eventId: string, now: number, signal: AbortSignal): Promise<number> {
    const found = await this.#query<{ seq: string }>(
      "SELECT seq FROM webhook_events WHERE id = $1",
      [eventId],
      signal,
    );
    const seq = found.rows[0]?.seq;
    if (seq === undefined) throw new EventNotFoundError(`no webhook event ${eventId}`);
    const { rowCount } = await this.#query(
      `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, scheduled_at = $1,
         claimed_by = NULL, claimed_until = NULL, delivered_at = NULL
       WHERE event_seq = $2`,
      [now, seq],
      signal,
    );
    return rowCount ?? 0;
  }

  async oldestPendingCreatedAt(signal: AbortSignal): Promise<number | undefined> {
    const { rows } = await this.#query<{ oldest: string | null }>(
      `SELECT LEAST(
         (SELECT MIN(created_at) FROM webhook_events WHERE fanned_out_at IS NULL),
         (SELECT MIN(e.created_at) FROM webhook_deliveries d JOIN webhook_events e ON e.seq = d.event_seq
           WHERE d.state = 'pending')) AS oldest`,
      [],
      signal,
    );
    const oldest = rows[0]?.oldest ?? null;
    return oldest === null ? undefined : Number(oldest);
  }

  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }
}
