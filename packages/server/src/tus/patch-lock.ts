/**
 * One PATCH per upload at a time in this process. A new PATCH aborts the one before and waits
 * for it to settle: the earlier one belongs to a connection the client has already given up on
 * (only the URL's holder sends PATCHes, and it resumes with HEAD + PATCH after a network
 * error), and waiting for its idle timeout would stall the resume.
 */
export class PatchLock {
  readonly #current = new Map<string, { controller: AbortController; settled: Promise<void> }>();

  async run<T>(uploadId: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    for (;;) {
      const previous = this.#current.get(uploadId);
      if (previous === undefined) break;
      previous.controller.abort(new Error("a newer PATCH for this upload arrived"));
      await previous.settled;
    }
    const controller = new AbortController();
    const result = work(controller.signal);
    const settled = result.then(
      () => {},
      () => {},
    );
    const entry = { controller, settled };
    this.#current.set(uploadId, entry);
    try {
      return await result;
    } finally {
      if (this.#current.get(uploadId) === entry) this.#current.delete(uploadId);
    }
  }
}
