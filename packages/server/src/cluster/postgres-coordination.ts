import { randomUUID } from "node:crypto";
import { StorageUnavailableError } from "@cleancut/core";
import pg from "pg";
import type {
  CancelSignals,
  Coordination,
  DrainResult,
  SweepLock,
  Unsubscribe,
  WriteLedger,
  WriteTicket,
} from "./ports.js";
import { type ClusterSettings, defaultClusterSettings } from "./settings.js";

/** `pg_notify` channel every instance LISTENs on; the payload is the upload id. */
export const cancelChannel = "cleancut_cancel";
/** Session advisory lock the reaper sweeps under ("clnd"; migrations use "clnc"). */
export const sweepLockKey = 0x636c6e64;

/** The database's clock, so instances with skewed clocks agree on heartbeat ages. */
const dbNow = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint";
const drainPollMs = 20;

export interface PostgresCoordinationOptions {
  settings?: Partial<ClusterSettings>;
  /** Errors of the background work (heartbeat, LISTEN connection), for the log. */
  onError?: (error: unknown, what: string) => void;
  /** Called after the LISTEN connection came back: notifications sent meanwhile were lost. */
  onReconnect?: () => void;
  instanceId?: string;
}

/**
 * Coordination over the shared PostgreSQL: cancels go out with NOTIFY and arrive on a
 * dedicated LISTEN connection (reopened with backoff when it drops); in-flight writes are rows
 * of `inflight_writes`, valid while their instance's `server_instances` heartbeat is fresh;
 * the reaper sweeps under a session advisory lock.
 */
export class PostgresCoordination implements Coordination, CancelSignals, WriteLedger, SweepLock {
  readonly instanceId: string;
  readonly spansInstances = true;
  readonly #url: string;
  readonly #settings: ClusterSettings;
  readonly #pool: pg.Pool;
  readonly #options: PostgresCoordinationOptions;
  readonly #listeners = new Set<(uploadId: string) => void>();
  readonly #fencedListeners = new Set<() => void>();
  /** Tickets whose DELETE failed: retried on every heartbeat. */
  readonly #unerased = new Set<string>();
  #listenClient: pg.Client | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #reconnectDelayMs = 100;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** `performance.now()` when the last successful heartbeat was *sent* (never later than the row's time). */
  #lastBeatSentAt = 0;
  #fenced = false;
  #beating = false;
  #closed = false;

  get signals(): CancelSignals {
    return this;
  }
  get writes(): WriteLedger {
    return this;
  }
  get sweepLock(): SweepLock {
    return this;
  }

  private constructor(url: string, options: PostgresCoordinationOptions) {
    this.#url = url;
    this.#options = options;
    this.#settings = { ...defaultClusterSettings, ...options.settings };
    this.instanceId = options.instanceId ?? randomUUID();
    // Bounded queries: a heartbeat or a drain poll must fail rather than hang on a lost database.
    const queryTimeoutMs = Math.max(1_000, Math.floor(this.#settings.staleAfterMs / 4));
    this.#pool = new pg.Pool({
      connectionString: url,
      max: 4,
      connectionTimeoutMillis: queryTimeoutMs,
      query_timeout: queryTimeoutMs,
    });
    this.#pool.on("error", (error) => this.#report(error, "idle coordination connection"));
  }

  /** Registers the instance, starts its heartbeat and LISTENs. The tables come from migration 2. */
  static async connect(
    url: string,
    options: PostgresCoordinationOptions = {},
  ): Promise<PostgresCoordination> {
    const coordination = new PostgresCoordination(url, options);
    try {
      await coordination.#beat();
      await coordination.#listen();
    } catch (error) {
      await coordination.close();
      throw error;
    }
    coordination.#heartbeatTimer = setInterval(
      () => void coordination.#tick(),
      coordination.#settings.heartbeatMs,
    );
    coordination.#heartbeatTimer.unref();
    return coordination;
  }

  #report(error: unknown, what: string): void {
    this.#options.onError?.(error, what);
  }

  // --- heartbeat and fencing ---------------------------------------------------------------

  async #beat(): Promise<void> {
    const sentAt = performance.now();
    await this.#pool.query(
      `INSERT INTO server_instances (instance_id, started_at, heartbeat_at) VALUES ($1, ${dbNow}, ${dbNow})
       ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
      [this.instanceId],
    );
    this.#lastBeatSentAt = sentAt;
    this.#fenced = false;
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    // Checked before the beat too: a beat that hangs (database unreachable) must not keep us
    // from noticing that we are about to be declared dead.
    this.#checkFence();
    if (this.#beating) return;
    this.#beating = true;
    try {
      await this.#beat();
    } catch (error) {
      this.#report(error, "heartbeat");
    } finally {
      this.#beating = false;
    }
    this.#checkFence();
    for (const id of [...this.#unerased]) {
      try {
        await this.#pool.query("DELETE FROM inflight_writes WHERE id = $1", [id]);
        this.#unerased.delete(id);
      } catch {
        break;
      }
    }
  }

  /**
   * Others treat us as dead after `staleAfterMs` of database time since our last beat; we stop
   * writing at half of that, measured from before that beat was sent, so we stop first.
   */
  #checkFence(): void {
    if (this.#fenced || performance.now() - this.#lastBeatSentAt <= this.#settings.staleAfterMs / 2) return;
    this.#fenced = true;
    for (const listener of [...this.#fencedListeners]) listener();
  }

  onFenced(listener: () => void): Unsubscribe {
    this.#fencedListeners.add(listener);
    return () => this.#fencedListeners.delete(listener);
  }

  // --- cancel signals (NOTIFY / LISTEN) -----------------------------------------------------

  async publish(uploadId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await this.#pool.query("SELECT pg_notify($1, $2)", [cancelChannel, uploadId]);
  }

  subscribe(listener: (uploadId: string) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url, keepAlive: true });
    const lost = (error?: Error) => {
      if (this.#listenClient !== client) return;
      this.#listenClient = undefined;
      if (error !== undefined) this.#report(error, "LISTEN connection");
      client.end().catch(() => {});
      this.#scheduleReconnect();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    client.on("notification", (message) => {
      if (message.channel !== cancelChannel || message.payload === undefined) return;
      for (const listener of [...this.#listeners]) listener(message.payload);
    });
    this.#listenClient = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${cancelChannel}`);
    } catch (error) {
      this.#listenClient = undefined;
      client.end().catch(() => {});
      throw error;
    }
    this.#reconnectDelayMs = 100;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer !== undefined) return;
    const delay = this.#reconnectDelayMs;
    this.#reconnectDelayMs = Math.min(this.#reconnectDelayMs * 2, 5_000);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#closed) return;
      this.#listen().then(
        () => this.#options.onReconnect?.(),
        (error: unknown) => {
          this.#report(error, "LISTEN reconnect");
          this.#scheduleReconnect();
        },
      );
    }, delay);
    this.#reconnectTimer.unref();
  }

  /** For tests: drops the LISTEN connection as a network failure would. */
  dropListenConnection(): void {
    this.#listenClient?.emit("error", new Error("LISTEN connection dropped (test)"));
  }

  get listening(): boolean {
    return this.#listenClient !== undefined;
  }

  // --- write ledger ------------------------------------------------------------------------

  async begin(uploadId: string, signal: AbortSignal): Promise<WriteTicket> {
    signal.throwIfAborted();
    if (this.#fenced) {
      throw new StorageUnavailableError("this server lost contact with the database; try again");
    }
    const id = randomUUID();
    await this.#pool.query(
      `INSERT INTO inflight_writes (id, upload_id, instance_id, started_at) VALUES ($1, $2, $3, ${dbNow})`,
      [id, uploadId, this.instanceId],
    );
    return {
      end: async () => {
        try {
          await this.#pool.query("DELETE FROM inflight_writes WHERE id = $1", [id]);
        } catch (error) {
          this.#report(error, "erasing an in-flight write");
          this.#unerased.add(id);
        }
      },
    };
  }

  async othersInFlight(uploadId: string, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    const { rows } = await this.#pool.query<{ count: string }>(
      `SELECT COUNT(*) AS count FROM inflight_writes w JOIN server_instances i USING (instance_id)
       WHERE w.upload_id = $1 AND w.instance_id <> $2 AND i.heartbeat_at >= ${dbNow} - $3`,
      [uploadId, this.instanceId, this.#settings.staleAfterMs],
    );
    return Number(rows[0]?.count ?? 0);
  }

  async drain(uploadId: string, options: { timeoutMs: number; signal: AbortSignal }): Promise<DrainResult> {
    return this.#drain(uploadId, options, false);
  }

  /**
   * `publish` and `drain` in one: the cancel's NOTIFY goes out in the statement of the first
   * poll. PostgreSQL delivers a NOTIFY only when its transaction commits, after that
   * statement's snapshot was taken, so the first poll's count is what other instances had in
   * flight just before they heard of the cancel (what `othersInFlight` then `publish` gave,
   * in one round trip instead of four). The drain's correctness does not rest on the publish:
   * a write records itself before it reads the state, and the tombstone is committed.
   */
  async publishAndDrain(
    uploadId: string,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<DrainResult> {
    options.signal.throwIfAborted();
    return this.#drain(uploadId, options, true);
  }

  async #drain(
    uploadId: string,
    options: { timeoutMs: number; signal: AbortSignal },
    publish: boolean,
  ): Promise<DrainResult> {
    const deadline = performance.now() + options.timeoutMs;
    let others: number | undefined;
    for (let poll = 0; ; poll++) {
      options.signal.throwIfAborted();
      const notify = publish && poll === 0;
      // One statement per poll: rows of dead instances (no fresh heartbeat) go, so a crash
      // must not hold a cancel forever, and the rows left are read. (The SELECT sees the
      // snapshot from before the DELETE in its WITH, hence the NOT IN.)
      const { rows } = await this.#pool.query<{ instances: string[] }>(
        `WITH dead AS (
           DELETE FROM inflight_writes w WHERE w.upload_id = $1 AND NOT EXISTS (
             SELECT 1 FROM server_instances i WHERE i.instance_id = w.instance_id AND i.heartbeat_at >= ${dbNow} - $2)
           RETURNING w.id)
         SELECT ${notify ? "pg_notify($3, $1)," : ""}
           ARRAY(SELECT instance_id FROM inflight_writes WHERE upload_id = $1 AND id NOT IN (SELECT id FROM dead)) AS instances`,
        notify
          ? [uploadId, this.#settings.staleAfterMs, cancelChannel]
          : [uploadId, this.#settings.staleAfterMs],
      );
      const instances = rows[0]?.instances ?? [];
      others ??= instances.filter((instance) => instance !== this.instanceId).length;
      if (instances.length === 0) return { drained: true, others };
      if (performance.now() >= deadline) return { drained: false, others };
      await new Promise((resolve) => setTimeout(resolve, drainPollMs));
    }
  }

  // --- sweep lock --------------------------------------------------------------------------

  async runExclusive(work: () => Promise<void>): Promise<boolean> {
    // A session lock lives on one connection: take it, work, release it on that same one.
    const client = await this.#pool.connect();
    let locked: boolean;
    try {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [
        sweepLockKey,
      ]);
      locked = rows[0]?.locked === true;
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    if (!locked) {
      client.release();
      return false;
    }
    try {
      await work();
      return true;
    } finally {
      try {
        await client.query("SELECT pg_advisory_unlock($1)", [sweepLockKey]);
        client.release();
      } catch (error) {
        // Destroying the connection ends the session, and the lock with it.
        client.release(error as Error);
      }
    }
  }

  // --- lifetime ----------------------------------------------------------------------------

  /** Stops the heartbeat, forgets this instance (its rows go with it) and closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeatTimer !== undefined) clearInterval(this.#heartbeatTimer);
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#listeners.clear();
    const client = this.#listenClient;
    this.#listenClient = undefined;
    await client?.end().catch(() => {});
    await this.#pool
      .query("DELETE FROM inflight_writes WHERE instance_id = $1", [this.instanceId])
      .then(() => this.#pool.query("DELETE FROM server_instances WHERE instance_id = $1", [this.instanceId]))
      .catch(() => {});
    await this.#pool.end();
  }
}
