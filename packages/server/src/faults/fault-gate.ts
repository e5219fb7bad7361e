import { StorageUnavailableError } from "@cleancut/core";

export type Fault =
  /** The next `times` calls fail (Infinity: until cleared). */
  | { kind: "fail"; times: number; error?: () => Error }
  /** Calls wait `ms` before reaching the real component. */
  | { kind: "delay"; ms: number }
  /** Calls never answer until their signal aborts or the fault is cleared. */
  | { kind: "hang" };

/**
 * The switchboard of a fault layer: which method misbehaves how, and how often each was
 * called. A fault layer calls `pass(method, signal)` before handing a call to the real
 * component, so the real component still does the work when no fault is set.
 */
export class FaultGate<Method extends string> {
  readonly #faults = new Map<Method, Fault>();
  readonly #calls = new Map<Method, number>();
  readonly #releases = new Set<() => void>();

  constructor(private readonly failure: (method: Method) => Error) {}

  inject(method: Method, fault: Fault): void {
    this.#faults.set(method, { ...fault });
  }

  /** Removes one fault (or all) and lets every delayed or hanging call go on. */
  clear(method?: Method): void {
    if (method === undefined) this.#faults.clear();
    else this.#faults.delete(method);
    for (const release of this.#releases) release();
    this.#releases.clear();
  }

  calls(method: Method): number {
    return this.#calls.get(method) ?? 0;
  }

  async pass(method: Method, signal: AbortSignal): Promise<void> {
    this.#calls.set(method, this.calls(method) + 1);
    const fault = this.#faults.get(method);
    if (fault === undefined) return;
    switch (fault.kind) {
      case "fail":
        if (fault.times <= 0) return;
        fault.times -= 1;
        throw fault.error?.() ?? this.failure(method);
      case "delay":
        await waitOrAbort(fault.ms, signal, this.#releases);
        return;
      case "hang":
        await waitOrAbort(Number.POSITIVE_INFINITY, signal, this.#releases);
        return;
    }
  }
}

/** The default failure of a store call: what an unreachable storage looks like. */
export const storageFailure = (method: string) =>
  new StorageUnavailableError(`injected fault: ${method} failed`);

function waitOrAbort(ms: number, signal: AbortSignal, releases: Set<() => void>): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      releases.delete(finish);
      resolve();
    };
    const onAbort = () => {
      clearTimeout(timer);
      releases.delete(finish);
      reject(signal.reason);
    };
    const timer = Number.isFinite(ms) ? setTimeout(finish, ms) : undefined;
    releases.add(finish);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
