import { type CancelJournal, type ResumedCancel, resumeCancels, XhrTransport } from "@cleancut/client";

const retryEveryMs = 3000;

/**
 * Finishes every cancel the journal holds, and keeps trying every few seconds while some are
 * not confirmed (server down, network gone). The journal, not this loop, is the guarantee: a
 * closed tab simply picks up on the next visit.
 */
export class PendingCancels {
  #running: Promise<void> | undefined;

  constructor(
    private readonly journal: CancelJournal,
    private readonly onResult: (result: ResumedCancel) => void,
  ) {}

  /** Starts the loop unless it is already running. */
  finish(): Promise<void> {
    this.#running ??= this.#loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #loop(): Promise<void> {
    for (;;) {
      const results = await resumeCancels(this.journal, {
        transport: new XhrTransport(),
        // Short here: the loop itself is the long retry.
        retry: { retries: 1, baseMs: 200, maxMs: 1000 },
        pollTimeoutMs: 20_000,
      });
      for (const result of results) this.onResult(result);
      if ((await this.journal.list()).length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, retryEveryMs));
    }
  }
}
