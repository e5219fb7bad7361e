import type { WriteLedger, WriteTicket } from "../cluster/ports.js";

interface Operation {
  readonly controller: AbortController;
  readonly settled: Promise<unknown>;
}

/**
 * Every piece of work that may write to an upload's storage (a segment PUT, a delete, a
 * complete) runs through here, so a cancel can abort all of it at once and then wait until
 * each has cleaned up its partial bytes. The operation registers *before* it reads the
 * upload's state: either it sees the tombstone, or the cancel sees it here.
 *
 * With a shared `ledger` (several instances on one PostgreSQL) the operation is also recorded
 * there before its work starts, and erased after it settled, so a cancel on another instance
 * can wait for it.
 */
export class InflightRegistry {
  readonly #byUpload = new Map<string, Set<Operation>>();
  readonly #ledger: WriteLedger | undefined;

  constructor(options: { ledger?: WriteLedger } = {}) {
    this.#ledger = options.ledger;
  }

  async run<T>(
    uploadId: string,
    linked: AbortSignal | undefined,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const onLinkedAbort = () => controller.abort(linked?.reason);
    if (linked?.aborted) controller.abort(linked.reason);
    else linked?.addEventListener("abort", onLinkedAbort, { once: true });

    let ticket: WriteTicket | undefined;
    const ledger = this.#ledger;
    const result = Promise.resolve().then(async () => {
      if (ledger !== undefined) ticket = await ledger.begin(uploadId, controller.signal);
      return work(controller.signal);
    });
    // Settled only once the ledger row is erased too: a cancel that waited here then finds the
    // shared ledger already clear of this instance's writes, instead of polling for the erase.
    let markSettled: () => void = noop;
    const settled = new Promise<void>((resolve) => {
      markSettled = resolve;
    });
    const operation: Operation = { controller, settled };
    let set = this.#byUpload.get(uploadId);
    if (set === undefined) {
      set = new Set();
      this.#byUpload.set(uploadId, set);
    }
    set.add(operation);
    try {
      return await result;
    } finally {
      linked?.removeEventListener("abort", onLinkedAbort);
      set.delete(operation);
      if (set.size === 0 && this.#byUpload.get(uploadId) === set) this.#byUpload.delete(uploadId);
      // `end` never throws (a failed erase is retried in the background).
      await ticket?.end();
      markSettled();
    }
  }

  /** Aborts every operation on the upload with `reason`, waits for all to settle, and says how many there were. */
  async abortAll(uploadId: string, reason: unknown): Promise<number> {
    const operations = [...(this.#byUpload.get(uploadId) ?? [])];
    for (const operation of operations) operation.controller.abort(reason);
    await Promise.all(operations.map((operation) => operation.settled));
    return operations.length;
  }

  /** Aborts every operation of every upload (this instance may no longer write), and waits for them. */
  async abortEverything(reason: unknown): Promise<number> {
    const counts = await Promise.all([...this.#byUpload.keys()].map((id) => this.abortAll(id, reason)));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** The uploads with an operation in flight here. */
  uploadIds(): string[] {
    return [...this.#byUpload.keys()];
  }

  count(uploadId: string): number {
    return this.#byUpload.get(uploadId)?.size ?? 0;
  }

  get totalCount(): number {
    let total = 0;
    for (const set of this.#byUpload.values()) total += set.size;
    return total;
  }
}

function noop(): void {}
