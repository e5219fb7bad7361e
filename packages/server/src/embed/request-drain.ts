import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { StorageUnavailableError } from "@cleancut/core";

/**
 * Tracks the requests cleancut is serving so `close()` can drain them: once draining, new
 * requests are refused (503, retryable for clients), requests in flight get `timeoutMs` to
 * finish, then their storage writes are aborted (an aborted segment write removes its temp
 * file, as on a cancel), and as a last resort their sockets are destroyed. The host's own
 * server and its other routes are untouched: only cleancut's requests are counted.
 */
export class RequestDrain {
  #accepting = true;
  readonly #open = new Set<IncomingMessage>();
  readonly #waiters = new Set<() => void>();

  get accepting(): boolean {
    return this.#accepting;
  }

  get openRequests(): number {
    return this.#open.size;
  }

  /** Counts a request until its response closes; throws once draining started. */
  admit(request: IncomingMessage, response: ServerResponse): void {
    if (!this.#accepting) throw new StorageUnavailableError("this server is shutting down; try again");
    this.#open.add(request);
    response.once("close", () => {
      this.#open.delete(request);
      if (this.#open.size === 0) for (const wake of [...this.#waiters]) wake();
    });
  }

  /**
   * Stops admitting, waits up to `timeoutMs` for the open requests, then calls `abortWrites`
   * and waits `graceMs` for the aborted handlers to answer; what is still open then has its
   * socket destroyed. Resolves when nothing cleancut serves is open (or nothing more can be done).
   */
  async drain(timeoutMs: number, abortWrites: () => Promise<unknown>, graceMs = 2_000): Promise<void> {
    this.#accepting = false;
    if (!(await this.#settled(timeoutMs))) {
      await abortWrites();
      if (!(await this.#settled(graceMs))) {
        for (const request of this.#open) request.socket?.destroy();
        await this.#settled(graceMs);
      }
    }
  }

  async #settled(withinMs: number): Promise<boolean> {
    if (this.#open.size === 0) return true;
    const stop = new AbortController();
    let wake: (() => void) | undefined;
    const emptied = new Promise<void>((resolve) => {
      wake = resolve;
      this.#waiters.add(resolve);
    });
    try {
      await Promise.race([emptied, sleep(withinMs, undefined, { signal: stop.signal }).catch(() => {})]);
    } finally {
      stop.abort();
      if (wake !== undefined) this.#waiters.delete(wake);
    }
    return this.#open.size === 0;
  }
}
