import type { UploadEvent } from "@cleancut/core";
import { type EventRow, rowToEvent } from "../repository/event-rows.js";

/**
 * The dispatcher's view of the two outbox tables (`webhook_events`, `webhook_deliveries`), one
 * implementation per database. Every step is one statement or transaction, so a crash between
 * steps leaves rows another instance (or the restarted one) picks up: nothing lives only in memory.
 */
export interface WebhookOutbox {
  /** Makes one pending delivery per endpoint for events not fanned out yet; returns how many events. */
  fanOut(endpoints: readonly string[], now: number, signal: AbortSignal): Promise<number>;
  /**
   * Claims up to `limit` due deliveries to `endpoints` for `leaseMs`, skipping any whose upload
   * has an earlier pending delivery to the same endpoint (order per upload and endpoint), and
   * any another instance holds (its lease not yet expired).
   */
  claim(request: ClaimRequest, signal: AbortSignal): Promise<ClaimedDelivery[]>;
  /** Records one attempt's outcome; does nothing when `claim` is no longer held by `instanceId`. */
  record(claim: ClaimedDelivery, outcome: AttemptRecord, signal: AbortSignal): Promise<void>;
  /** Gives a claim back without counting an attempt (the dispatcher closed before it ended). */
  release(claim: ClaimedDelivery, signal: AbortSignal): Promise<void>;
  /**
   * Dead-letters pending deliveries to URLs no longer in `endpoints` once their retry window is
   * over (scheduled before `scheduledBefore`): nobody will try them again, and a still-configured
   * URL's would be dead by then too. Instances of a rolling config change keep each other's.
   */
  retireRemovedEndpoints(
    endpoints: readonly string[],
    scheduledBefore: number,
    signal: AbortSignal,
  ): Promise<number>;
  /** Newest events first, with one line per delivery (or one `queued` line before fan-out). */
  list(filter: ListFilter, signal: AbortSignal): Promise<DeliveryListing[]>;
  /** Resets every delivery of the event to pending now (dead ones too); throws `event_not_found`. */
  replay(eventId: string, now: number, signal: AbortSignal): Promise<number>;
  /** When the oldest event still waiting for a delivery (or its fan-out) was recorded, if any. */
  oldestPendingCreatedAt(signal: AbortSignal): Promise<number | undefined>;
  close(): Promise<void>;
}

export type DeliveryState = "pending" | "delivered" | "dead";

export interface ClaimRequest {
  instanceId: string;
  endpoints: readonly string[];
  limit: number;
  now: number;
  leaseMs: number;
}

export interface ClaimedDelivery {
  eventSeq: number;
  endpoint: string;
  /** Attempts recorded before this one. */
  attempts: number;
  /** Fan-out or replay time: the retry window counts from here. */
  scheduledAt: number;
  claimedBy: string;
  event: UploadEvent;
}

export type AttemptRecord =
  | { state: "delivered"; status: number; at: number }
  | { state: "pending" | "dead"; status: number | undefined; error: string; nextAttemptAt: number };

export interface ListFilter {
  /** Only dead deliveries and those with a failed attempt. */
  failedOnly: boolean;
  limit: number;
}

export interface DeliveryListing {
  eventId: string;
  type: string;
  uploadId: string;
  /** When the event was recorded (ms since the epoch). */
  createdAt: number;
  /** Absent before fan-out. */
  endpoint: string | undefined;
  state: DeliveryState | "queued";
  attempts: number;
  lastStatus: number | undefined;
  lastError: string | undefined;
  nextAttemptAt: number | undefined;
  deliveredAt: number | undefined;
}

/** A claim query's row: the delivery's columns and its event's (both databases select these). */
export interface ClaimRow extends EventRow {
  event_seq: number | string;
  endpoint: string;
  attempts: number | string;
  scheduled_at: number | string;
}

export function claimFromRow(row: ClaimRow, claimedBy: string): ClaimedDelivery {
  return {
    eventSeq: Number(row.event_seq),
    endpoint: row.endpoint,
    attempts: Number(row.attempts),
    scheduledAt: Number(row.scheduled_at),
    claimedBy,
    event: rowToEvent(row),
  };
}

/** A listing query's row (both databases select these columns). */
export interface ListingRow {
  id: string;
  type: string;
  upload_id: string;
  created_at: number | string;
  endpoint: string | null;
  state: string | null;
  attempts: number | string | null;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: number | string | null;
  delivered_at: number | string | null;
}

export function listingFromRow(row: ListingRow): DeliveryListing {
  const optionalNumber = (value: number | string | null) => (value === null ? undefined : Number(value));
  return {
    eventId: row.id,
    type: row.type,
    uploadId: row.upload_id,
    createdAt: Number(row.created_at),
    endpoint: row.endpoint ?? undefined,
    state: (row.state ?? "queued") as DeliveryListing["state"],
    attempts: Number(row.attempts ?? 0),
    lastStatus: row.last_status ?? undefined,
    lastError: row.last_error ?? undefined,
    nextAttemptAt: optionalNumber(row.next_attempt_at),
    deliveredAt: optionalNumber(row.delivered_at),
  };
}

/** Why a retired delivery is dead (`cleancut webhooks ls` shows it). */
export const removedEndpointError = "its webhook URL is no longer configured";

/** Listing SQL both databases run (`?` placeholders are rewritten for PostgreSQL). */
export const listingSelect = `SELECT e.id, e.type, e.upload_id, e.created_at, d.endpoint, d.state, d.attempts,
    d.last_status, d.last_error, d.next_attempt_at, d.delivered_at
  FROM webhook_events e LEFT JOIN webhook_deliveries d ON d.event_seq = e.seq`;
