import { randomUUID } from "node:crypto";
import type {
  CancelSignals,
  Coordination,
  DrainResult,
  SweepLock,
  Unsubscribe,
  WriteLedger,
  WriteTicket,
} from "./ports.js";

/** One process: a publish reaches this process's listeners and nothing else. */
export class InProcessCancelSignals implements CancelSignals {
  readonly #listeners = new Set<(uploadId: string) => void>();

  async publish(uploadId: string, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    for (const listener of [...this.#listeners]) listener(uploadId);
  }

  subscribe(listener: (uploadId: string) => void): Unsubscribe {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}

const noTicket: WriteTicket = { end: async () => {} };

/**
 * One process: the in-flight registry already is the whole ledger (the cancel aborts it and
 * waits for it before purging), so there is nothing else to wait for.
 */
export class InProcessWriteLedger implements WriteLedger {
  async begin(_uploadId: string, signal: AbortSignal): Promise<WriteTicket> {
    signal.throwIfAborted();
    return noTicket;
  }

  async othersInFlight(_uploadId: string, signal: AbortSignal): Promise<number> {
    signal.throwIfAborted();
    return 0;
  }

  async drain(_uploadId: string, options: { signal: AbortSignal }): Promise<DrainResult> {
    options.signal.throwIfAborted();
    return { drained: true, others: 0 };
  }
}

/** One process: the reaper's own single-flight is the lock. */
export class InProcessSweepLock implements SweepLock {
  async runExclusive(work: () => Promise<void>): Promise<boolean> {
    await work();
    return true;
  }
}

export function inProcessCoordination(): Coordination {
  const signals = new InProcessCancelSignals();
  return {
    instanceId: randomUUID(),
    spansInstances: false,
    signals,
    writes: new InProcessWriteLedger(),
    sweepLock: new InProcessSweepLock(),
    onFenced: () => () => {},
    close: () => signals.close(),
  };
}
