/**
 * How server instances that share one database coordinate a cancel. Three small ports, each
 * with an in-process adapter (one server on SQLite: today's behaviour) and a PostgreSQL one
 * (several servers on one database and one bucket).
 */

export type Unsubscribe = () => void;

/** "Upload X was cancelled": every instance aborts its own writes to X when it hears it. */
export interface CancelSignals {
  /** Tells every instance (this one included) that the upload was tombstoned. */
  publish(uploadId: string, signal: AbortSignal): Promise<void>;
  subscribe(listener: (uploadId: string) => void): Unsubscribe;
  close(): Promise<void>;
}

/** A write recorded in the ledger; `end` erases it (it never throws, it retries on its own). */
export interface WriteTicket {
  end(): Promise<void>;
}

export interface DrainResult {
  /** True once no live instance has a write to the upload in flight. */
  drained: boolean;
  /** Writes other instances had in flight when the wait began. */
  others: number;
}

/**
 * Every write to an upload's storage, on every instance, recorded where a cancel on any
 * instance can see it. A write is recorded *before* it reads the upload's state; a cancel
 * waits for the ledger to drain *after* it wrote the tombstone: either the write sees the
 * tombstone, or the cancel sees the write.
 */
export interface WriteLedger {
  /** Records a write about to start. Rejects (503) when this instance can no longer prove it is alive. */
  begin(uploadId: string, signal: AbortSignal): Promise<WriteTicket>;
  /** Writes that live instances other than this one have in flight for the upload right now. */
  othersInFlight(uploadId: string, signal: AbortSignal): Promise<number>;
  /** Waits (at most `timeoutMs`) until no live instance has a write to the upload in flight. */
  drain(uploadId: string, options: { timeoutMs: number; signal: AbortSignal }): Promise<DrainResult>;
  /**
   * Optional, for a ledger that is also the coordination's `CancelSignals`: `publish` then
   * `drain`, with `others` counted just before the publish reached anyone (what
   * `othersInFlight` before `publish` says), in fewer round trips.
   */
  publishAndDrain?(
    uploadId: string,
    options: { timeoutMs: number; signal: AbortSignal },
  ): Promise<DrainResult>;
}

/** One reaper sweep at a time across every instance sharing the database. */
export interface SweepLock {
  /** Runs `work` if no other instance holds the lock; false when it skipped. */
  runExclusive(work: () => Promise<void>): Promise<boolean>;
}

export interface Coordination {
  readonly instanceId: string;
  /**
   * Whether other server processes share this coordination (PostgreSQL): only then can another
   * instance's reaper start a cleanup attempt beside one of this instance's.
   */
  readonly spansInstances: boolean;
  readonly signals: CancelSignals;
  readonly writes: WriteLedger;
  readonly sweepLock: SweepLock;
  /** Called when this instance lost its heartbeat for too long: it must abort every write it has. */
  onFenced(listener: () => void): Unsubscribe;
  close(): Promise<void>;
}
