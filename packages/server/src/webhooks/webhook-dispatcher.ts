import type { Logger } from "pino";
import type { BackoffPolicy } from "../cancel/backoff.js";
import type { ClaimedDelivery, WebhookOutbox } from "./outbox.js";
import { postWebhook } from "./post-webhook.js";
import { afterFailure } from "./retry-schedule.js";
import { signWebhook } from "./sign-webhook.js";

/** What the dispatcher reports as it goes (the server's Prometheus counters). */
export interface WebhookObserver {
  webhookDelivered(): void;
  webhookAttemptFailed(): void;
  webhookDeadLettered(): void;
}

export interface WebhookDispatcherOptions {
  outbox: WebhookOutbox;
  endpoints: readonly string[];
  key: Buffer;
  timeoutMs: number;
  retryWindowMs: number;
  backoff: BackoffPolicy;
  /** How often to look for events other instances wrote and for retries that fell due. */
  pollIntervalMs: number;
  /** Attempts in flight at once, over all uploads and endpoints. */
  concurrency: number;
  /** Names this instance's claims. */
  instanceId: string;
  /** How long `close()` lets attempts in flight finish before aborting them. */
  closeGraceMs: number;
  log: Logger;
  observer?: WebhookObserver;
}

/**
 * Delivers outbox events as signed POSTs. Each pass fans out new events, claims what is due
 * and starts one attempt per claim without waiting for it, up to `concurrency` at once: a slow
 * receiver holds only its own attempts. Order per upload and endpoint comes from the claim (an
 * event is not claimable while an earlier one of its upload to that endpoint is pending), so
 * attempts of one upload run one after another and other uploads' run alongside.
 */
export class WebhookDispatcher {
  readonly #options: WebhookDispatcherOptions;
  readonly #inflight = new Map<string, Promise<void>>();
  /** Aborts attempts still running when the close grace ends. */
  readonly #closing = new AbortController();
  #pass: Promise<void> | undefined;
  #again = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #nextRetireAt = 0;

  constructor(options: WebhookDispatcherOptions) {
    this.#options = options;
  }

  /** The claim lease: the attempt's timeout, then time to record its outcome. */
  get leaseMs(): number {
    return 2 * this.#options.timeoutMs + 5_000;
  }

  start(): void {
    this.#timer = setInterval(() => this.wake(), this.#options.pollIntervalMs);
    this.#timer.unref();
    this.wake();
  }

  /** Runs a pass now (or right after the current one): an event committed, an attempt ended. */
  wake(): void {
    if (this.#closed) return;
    if (this.#pass !== undefined) {
      this.#again = true;
      return;
    }
    // On the next turn of the event loop, never inside the caller: the repository announces a
    // commit from within the state change, and SQLite's statements here would run synchronously.
    this.#pass = (async () => {
      await new Promise((resolve) => setImmediate(resolve));
      do {
        this.#again = false;
        try {
          await this.#runPass();
        } catch (error) {
          // The database is away: the next poll tries again; claims made meanwhile expire.
          if (!this.#closed) this.#options.log.warn({ err: error }, "webhook dispatch pass failed");
        }
      } while (this.#again && !this.#closed);
    })().finally(() => {
      this.#pass = undefined;
    });
  }

  async #runPass(): Promise<void> {
    const { outbox, endpoints, concurrency, instanceId } = this.#options;
    const signal = AbortSignal.timeout(30_000);
    await outbox.fanOut(endpoints, Date.now(), signal);
    await this.#retireRemovedEndpointsWhenDue(signal);
    const free = concurrency - this.#inflight.size;
    if (free <= 0 || this.#closed) return;
    const claims = await outbox.claim(
      { instanceId, endpoints, limit: free, now: Date.now(), leaseMs: this.leaseMs },
      signal,
    );
    for (const claim of claims) this.#startAttempt(claim);
    // A full batch may have left more behind.
    if (claims.length === free) this.#again = true;
  }

  /** At most once a minute: deliveries to URLs taken out of the config would wait forever. */
  async #retireRemovedEndpointsWhenDue(signal: AbortSignal): Promise<void> {
    const now = Date.now();
    if (now < this.#nextRetireAt) return;
    this.#nextRetireAt = now + 60_000;
    const { outbox, endpoints, retryWindowMs, log } = this.#options;
    const retired = await outbox.retireRemovedEndpoints(endpoints, now - retryWindowMs, signal);
    if (retired > 0) log.warn({ retired }, "dead-lettered deliveries to webhook URLs no longer configured");
  }

  #startAttempt(claim: ClaimedDelivery): void {
    const key = `${claim.eventSeq} ${claim.endpoint}`;
    const attempt = this.#attempt(claim)
      .catch((error: unknown) => {
        // Recording failed: the claim expires and the attempt is made again (at least once).
        this.#options.log.warn({ err: error, eventId: claim.event.id }, "could not record a webhook attempt");
      })
      .finally(() => {
        this.#inflight.delete(key);
        this.wake();
      });
    this.#inflight.set(key, attempt);
  }

  async #attempt(claim: ClaimedDelivery): Promise<void> {
    const { outbox, key, timeoutMs, observer } = this.#options;
    const body = JSON.stringify(claim.event);
    const headers = signWebhook(key, claim.event.id, Math.floor(Date.now() / 1000), body);
    const outcome = await postWebhook(claim.endpoint, headers, body, timeoutMs, this.#closing.signal);
    const signal = AbortSignal.timeout(30_000);
    if (outcome.ok) {
      await outbox.record(claim, { state: "delivered", status: outcome.status, at: Date.now() }, signal);
      observer?.webhookDelivered();
      return;
    }
    if (this.#closing.signal.aborted) {
      // Cut off by close(): not the receiver's failure. Give the claim back for the next start.
      await outbox.release(claim, signal);
      return;
    }
    const attempts = claim.attempts + 1;
    const next = afterFailure(
      attempts,
      claim.scheduledAt,
      Date.now(),
      this.#options.retryWindowMs,
      this.#options.backoff,
    );
    await outbox.record(claim, { ...next, status: outcome.status, error: outcome.error }, signal);
    observer?.webhookAttemptFailed();
    if (next.state === "dead") {
      observer?.webhookDeadLettered();
      this.#options.log.warn(
        { eventId: claim.event.id, endpoint: claim.endpoint, attempts, error: outcome.error },
        "webhook dead-lettered after its retry window",
      );
    }
  }

  /**
   * Stops claiming, lets attempts in flight finish for up to `closeGraceMs`, then aborts the
   * rest and releases their claims. Does not close the outbox (its owner does).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#pass;
    const settled = Promise.all(this.#inflight.values());
    let graceTimer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      graceTimer = setTimeout(resolve, this.#options.closeGraceMs);
    });
    await Promise.race([settled, grace]);
    clearTimeout(graceTimer);
    this.#closing.abort();
    await settled;
  }
}
