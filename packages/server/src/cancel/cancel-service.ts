import { setMaxListeners } from "node:events";
import {
  type CancelReason,
  type CancelReport,
  includeConcurrentAttempt,
  pendingCancelReport,
  type Remnant,
  type SegmentStore,
  UploadBusyError,
  UploadCancelledError,
  UploadCompletedError,
  UploadNotFoundError,
  type UploadRecord,
  type UploadRepository,
  type VideoStore,
} from "@cleancut/core";
import type { Logger } from "pino";
import type { CancelSignals, DrainResult, WriteLedger } from "../cluster/ports.js";
import { type BackoffPolicy, backoffDelay } from "./backoff.js";
import { endedEvent, pendingEvent } from "./cancel-events.js";
import type { InflightRegistry } from "./inflight-registry.js";
import { failureOf, type PurgeOptions, purgeUploadStorage } from "./purge.js";

export interface CancelServiceDeps {
  repository: UploadRepository;
  store: SegmentStore;
  videos: VideoStore;
  inflight: InflightRegistry;
  log: Logger;
  /** Backoff between cleanup attempts that left something behind (the reaper runs them). */
  retry: BackoffPolicy;
  purge: PurgeOptions;
  /** Tells every instance (this one too) to abort its writes to a tombstoned upload. */
  signals: CancelSignals;
  /** Every instance's writes in flight: the purge waits until the upload has none. */
  writes: WriteLedger;
  /** How long one attempt waits for other instances' writes before it gives up (202) and retries later. */
  drainTimeoutMs: number;
  /**
   * Other instances run reapers too (shared PostgreSQL): an attempt in progress is leased to
   * this instance (see `attemptDueAt`). Alone, the reaper may step in at once: an attempt in
   * progress here is shared, not repeated, and one that failed is retried at the next sweep.
   */
  spansInstances: boolean;
  /** Told the outcome of every attempt (the reaper's retries run through here too): metrics. */
  observer?: CleanupObserver;
}

/** What the cancel service reports as it goes; kept to an interface so metrics stay out of it. */
export interface CleanupObserver {
  /** An attempt ended with this report: verified, or unverified with a retry scheduled. */
  cleanupAttemptEnded(report: CancelReport): void;
  /** The verification listing after a purge still found part of the upload. */
  leftoversFound(): void;
}

/** Beyond the wait for other instances' writes, what one attempt's purge is given before the reaper may step in. */
const ATTEMPT_PURGE_ALLOWANCE_MS = 5_000;

/**
 * Cancel, in this order: a durable tombstone; every write still in flight aborted (and
 * waited for until its temp bytes are gone); every stored segment deleted; storage listed
 * again. Only an empty listing makes the report `verified`. Otherwise the report says what
 * is left, and the reaper retries with backoff — across restarts, since the tombstone and
 * the schedule live in the database.
 *
 * With several instances on one database, every attempt also publishes the cancel (each
 * instance aborts its own writes to the upload) and waits, bounded, until the shared write
 * ledger holds no live write for it before purging: no instance can still be writing a part
 * while the purge runs. A wait that times out purges nothing and is retried like any
 * unverified cleanup.
 */
export class CancelService {
  readonly #deps: CancelServiceDeps;
  /** One cleanup per upload at a time in this process; concurrent callers share its result. */
  readonly #running = new Map<string, Promise<CancelReport>>();
  readonly #lifetime = new AbortController();

  constructor(deps: CancelServiceDeps) {
    this.#deps = deps;
    // Every cancel in flight listens on it (one listener each, removed when done): no cap.
    setMaxListeners(0, this.#lifetime.signal);
  }

  /** Cancels the upload and resolves with its report once an attempt has finished. */
  cancel(id: string, reason: CancelReason = "client"): Promise<CancelReport> {
    return this.#singleFlight(id, () => this.#cancel(id, reason));
  }

  /**
   * When a cleanup attempt that was started becomes due for the reaper: long enough for the
   * attempt to wait for writes and purge, so another instance's reaper does not run a second
   * attempt beside it; short enough that a crashed attempt is taken over soon (a restarted
   * instance takes over its own at once).
   */
  attemptDueAt(now = Date.now()): number {
    if (!this.#deps.spansInstances) return now;
    return now + this.#deps.drainTimeoutMs + ATTEMPT_PURGE_ALLOWANCE_MS;
  }

  /** Runs another cleanup attempt for an upload already tombstoned (reaper, restart, a failed complete). */
  resumeCleanup(id: string): Promise<CancelReport> {
    return this.#singleFlight(id, async () => {
      const record = await this.#mustGet(id);
      if (record.state !== "cancelling") return this.#reportOf(record);
      return this.#cleanup(
        record,
        record.cancelReport ?? this.#initialReport(id, record.cancelReason ?? "client"),
      );
    });
  }

  /** Stops starting new attempts; running ones are aborted and stay due for the next start. */
  close(): void {
    this.#lifetime.abort(new Error("server is shutting down"));
  }

  #singleFlight(id: string, run: () => Promise<CancelReport>): Promise<CancelReport> {
    const running = this.#running.get(id);
    if (running !== undefined) return running;
    const promise = run().finally(() => this.#running.delete(id));
    this.#running.set(id, promise);
    return promise;
  }

  async #cancel(id: string, reason: CancelReason): Promise<CancelReport> {
    const { repository, inflight } = this.#deps;
    const signal = this.#lifetime.signal;
    // A concurrent complete may move the state under us; the compare-and-set says who won.
    for (let round = 0; round < 5; round++) {
      const record = await this.#mustGet(id);
      switch (record.state) {
        case "cancelled":
        case "failed":
          return this.#reportOf(record);
        case "completed":
          throw new UploadCompletedError(
            `upload ${id} already completed as video ${record.videoId}; delete the video instead`,
            { details: { videoId: record.videoId } },
          );
        case "cancelling": {
          await inflight.abortAll(id, new UploadCancelledError(`upload ${id} was cancelled`));
          return this.#cleanup(record, record.cancelReport ?? this.#initialReport(id, reason));
        }
        case "uploading":
        case "completing": {
          const report = this.#initialReport(id, reason);
          const tombstoned = await repository.transition(
            id,
            [record.state],
            "cancelling",
            { cancelReason: reason, cancelReport: report, nextCleanupAt: this.attemptDueAt() },
            signal,
          );
          if (tombstoned === undefined) continue;
          this.#deps.log.info({ uploadId: id, reason }, "upload tombstoned; aborting transfers");
          report.abortedTransfers = await inflight.abortAll(
            id,
            new UploadCancelledError(`upload ${id} was cancelled`),
          );
          // Re-read: a complete that was aborted may have recorded a video id to clean up.
          const current = (await repository.getUpload(id, signal)) ?? tombstoned;
          return this.#cleanup(current, report);
        }
      }
    }
    throw new UploadBusyError(`upload ${id} kept changing state while being cancelled; try again`);
  }

  async #mustGet(id: string): Promise<UploadRecord> {
    const record = await this.#deps.repository.getUpload(id, this.#lifetime.signal);
    if (record === undefined) throw new UploadNotFoundError(`upload ${id} does not exist`);
    return record;
  }

  #initialReport(id: string, reason: CancelReason): CancelReport {
    return pendingCancelReport(id, reason, new Date().toISOString());
  }

  #reportOf(record: UploadRecord): CancelReport {
    if (record.cancelReport !== undefined) return record.cancelReport;
    throw new UploadNotFoundError(`upload ${record.id} has no cancel report`);
  }

  async #cleanup(record: UploadRecord, before: CancelReport): Promise<CancelReport> {
    const { repository, store, videos, log } = this.#deps;
    const signal = this.#lifetime.signal;
    const handle = { id: record.id, storageRef: record.storageRef };
    const others = await this.#stopWritesEverywhere(record.id, signal);
    if (!others.drained) return this.#scheduleRetry(record, before, others.message);
    const purge = await purgeUploadStorage(store, handle, this.#deps.purge, signal);
    const latest = await this.#includeOtherAttempts(record.id, before);
    const previous = { ...latest, abortedTransfers: latest.abortedTransfers + others.aborted };
    const remaining: Remnant[] | undefined = purge.remnants;
    // A complete that raced the cancel may have produced the whole video: it goes too.
    if (record.videoId !== undefined) {
      try {
        await videos.deleteVideo(record.videoId, signal);
        await repository.deleteVideo(record.videoId, signal);
        const size = await videos.statVideo(record.videoId, signal);
        if (size !== undefined) remaining?.push({ name: `video ${record.videoId}`, size });
      } catch (error) {
        purge.failures.push(failureOf(`video ${record.videoId}`, error));
      }
    }
    if (remaining !== undefined && remaining.length > 0) this.#deps.observer?.leftoversFound();
    const verified = remaining !== undefined && remaining.length === 0 && purge.failures.length === 0;
    const attempts = previous.attempts + 1;
    const now = Date.now();
    const report: CancelReport = {
      ...previous,
      state: verified ? "cancelled" : "cancelling",
      deletedSegments: previous.deletedSegments + purge.deletedSegments,
      deletedBytes: previous.deletedBytes + purge.deletedBytes,
      remaining: remaining ?? [],
      remainingSegments: (remaining ?? []).filter((remnant) => remnant.index !== undefined).length,
      failures: purge.failures,
      verified,
      attempts,
      durationMs: now - Date.parse(previous.requestedAt),
    };
    delete report.nextAttemptAt;
    if (verified) {
      report.finishedAt = new Date(now).toISOString();
      await repository.forgetAllSegments(record.id, signal);
      const finalState = record.cancelReason === "not_a_video" ? "failed" : "cancelled";
      const ended = await repository.transition(
        record.id,
        ["cancelling"],
        finalState,
        { cancelReport: report },
        signal,
        endedEvent(record, report),
      );
      // Another instance's attempt verified it first: its saved report is the one everyone reads.
      if (ended === undefined) return this.#reportOf(await this.#mustGet(record.id));
      log.info(
        { uploadId: record.id, deletedSegments: report.deletedSegments, durationMs: report.durationMs },
        "upload cleanup verified",
      );
      this.#deps.observer?.cleanupAttemptEnded(report);
      return report;
    }
    return this.#saveUnverified(record, report);
  }

  /**
   * Publishes the cancel to every instance and waits until none has a write to the upload in
   * flight (the tombstone is already written, so no new one starts). `aborted` counts the
   * writes other live instances had streaming just before the publish.
   */
  async #stopWritesEverywhere(
    id: string,
    signal: AbortSignal,
  ): Promise<{ drained: true; aborted: number } | { drained: false; message: string }> {
    const { signals, writes, drainTimeoutMs } = this.#deps;
    try {
      let aborted: number;
      let drain: DrainResult;
      if (writes.publishAndDrain !== undefined && Object.is(writes, signals)) {
        // One coordination (PostgreSQL) that can publish within its first drain poll: one
        // round trip where othersInFlight, publish and the poll took four, same answers.
        drain = await writes.publishAndDrain(id, { timeoutMs: drainTimeoutMs, signal });
        aborted = drain.others;
      } else {
        aborted = await writes.othersInFlight(id, signal);
        await signals.publish(id, signal);
        drain = await writes.drain(id, { timeoutMs: drainTimeoutMs, signal });
      }
      if (drain.drained) return { drained: true, aborted };
      return {
        drained: false,
        message: `${drain.others} write(s) on other server instances still in flight after ${drainTimeoutMs} ms`,
      };
    } catch (error) {
      if (signal.aborted) throw error;
      return { drained: false, message: `could not reach the other server instances: ${String(error)}` };
    }
  }

  /** An attempt that purged nothing because another instance may still be writing. */
  async #scheduleRetry(record: UploadRecord, before: CancelReport, message: string): Promise<CancelReport> {
    const previous = await this.#includeOtherAttempts(record.id, before);
    const now = Date.now();
    const report: CancelReport = {
      ...previous,
      state: "cancelling",
      failures: [{ name: "writes in flight", code: "writes_in_flight", message }],
      verified: false,
      attempts: previous.attempts + 1,
      durationMs: now - Date.parse(previous.requestedAt),
    };
    return this.#saveUnverified(record, report);
  }

  /**
   * Another instance's reaper may have run an attempt while this one waited for writes or
   * purged (the upload was due): the report counts it instead of overwriting it.
   */
  async #includeOtherAttempts(id: string, before: CancelReport): Promise<CancelReport> {
    const stored = await this.#deps.repository.getUpload(id, this.#lifetime.signal);
    return includeConcurrentAttempt(before, stored?.cancelReport);
  }

  async #saveUnverified(record: UploadRecord, report: CancelReport): Promise<CancelReport> {
    const { repository, log } = this.#deps;
    const signal = this.#lifetime.signal;
    const attempts = report.attempts;
    const now = Date.now();
    const nextAttemptAt = now + backoffDelay(this.#deps.retry, attempts);
    report.nextAttemptAt = new Date(nextAttemptAt).toISOString();
    // The application hears once that this cleanup needs more time, not at every retry.
    await repository.patchUpload(
      record.id,
      { cancelReport: report, nextCleanupAt: nextAttemptAt },
      signal,
      pendingEvent(record, report),
    );
    log.warn(
      { uploadId: record.id, attempts, failures: report.failures, remaining: report.remaining.length },
      "upload cleanup not verified yet; will retry",
    );
    this.#deps.observer?.cleanupAttemptEnded(report);
    return report;
  }
}
