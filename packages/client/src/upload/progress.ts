import { throttleLatest } from "@cleancut/core";
import type { UploadProgress } from "./events.js";

/** Counts bytes the server acknowledged and emits throttled progress; 100 % is never swallowed. */
export class ProgressTracker {
  #sent = 0;
  #runStartBytes = 0;
  #runStartedAt = 0;
  readonly #throttle: ReturnType<typeof throttleLatest<UploadProgress>>;

  constructor(
    readonly totalBytes: number,
    intervalMs: number,
    emit: (progress: UploadProgress) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.#throttle = throttleLatest(emit, intervalMs, now);
  }

  get bytesSent(): number {
    return this.#sent;
  }

  /** A new run starts with what the server already holds. */
  begin(alreadySent: number): void {
    this.#sent = alreadySent;
    this.#runStartBytes = alreadySent;
    this.#runStartedAt = this.now();
    this.#throttle.push(this.#snapshot());
  }

  add(bytes: number): void {
    this.#sent += bytes;
    this.#throttle.push(this.#snapshot());
    if (this.#sent >= this.totalBytes) this.#throttle.flush();
  }

  flush(): void {
    this.#throttle.flush();
  }

  /** Drops a pending event (cancel, failure): no progress after the upload stopped. */
  stop(): void {
    this.#throttle.cancel();
  }

  #snapshot(): UploadProgress {
    const seconds = (this.now() - this.#runStartedAt) / 1000;
    const sentThisRun = this.#sent - this.#runStartBytes;
    const rate = seconds > 0 ? sentThisRun / seconds : 0;
    const left = this.totalBytes - this.#sent;
    const etaSeconds = left === 0 ? 0 : rate > 0 ? left / rate : undefined;
    return { bytesSent: this.#sent, totalBytes: this.totalBytes, rate, etaSeconds };
  }
}
