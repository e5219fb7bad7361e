import type { SegmentStore, UploadRepository, VideoStore } from "@cleancut/core";
import type { Logger } from "pino";
import type { SweepLock, WriteLedger } from "../cluster/ports.js";
import { reconcileOrphans, summarizeOrphanReport } from "../gc/orphan-reconciler.js";
import type { CancelService } from "./cancel-service.js";
import type { PurgeOptions } from "./purge.js";

export interface ReaperDeps {
  repository: UploadRepository;
  store: SegmentStore;
  videos: VideoStore;
  cancels: CancelService;
  log: Logger;
  intervalMs: number;
  batchSize: number;
  /** How long a cancelled upload keeps answering GET after it expired and after it was cancelled. */
  finishedRetentionMs: number;
  /** How long upload events stay in the outbox once no webhook delivery waits for them. */
  eventRetentionMs: number;
  /** One sweep at a time across every instance sharing the database (a sweep is skipped while another runs). */
  sweepLock: SweepLock;
  /** Another instance's complete in progress is not a crashed one: it has a live write in the ledger. */
  writes: WriteLedger;
  /**
   * The orphan reconciler, run from a sweep every `intervalMs` (the first one interval after
   * start) with `graceMs`; absent or an interval of 0: never.
   */
  gc?: { intervalMs: number; graceMs: number; purge: PurgeOptions };
}

/**
 * The server's own janitor, so nothing waits for a cron or a lifecycle rule: it cancels
 * uploads past `expiresAt` and retries cleanups that were not verified yet (including ones
 * a crash interrupted, which are still `cancelling` in the database).
 */
export class Reaper {
  #timer: NodeJS.Timeout | undefined;
  #nextGcAt = Number.POSITIVE_INFINITY;
  #sweeping: Promise<void> | undefined;
  readonly #lifetime = new AbortController();

  constructor(private readonly deps: ReaperDeps) {}

  async start(): Promise<void> {
    await this.#recoverInterruptedCompletes();
    await this.#resumeInterruptedCleanups();
    if (this.deps.gc !== undefined && this.deps.gc.intervalMs > 0)
      this.#nextGcAt = Date.now() + this.deps.gc.intervalMs;
    await this.sweep();
    this.#timer = setInterval(() => void this.sweep(), this.deps.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#lifetime.abort(new Error("reaper stopped"));
    await this.#sweeping;
  }

  /** One pass. Overlapping calls share the pass in progress. */
  sweep(): Promise<void> {
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<void> {
    const signal = this.#lifetime.signal;
    if (signal.aborted) return;
    try {
      const swept = await this.deps.sweepLock.runExclusive(() => this.#sweepLocked(signal));
      if (!swept) this.deps.log.debug("another instance is sweeping; skipped");
    } catch (error) {
      if (!signal.aborted) this.deps.log.error({ err: error }, "reaper sweep failed");
    }
  }

  async #sweepLocked(signal: AbortSignal): Promise<void> {
    const { repository, cancels, log, batchSize } = this.deps;
    const now = Date.now();
    for (const upload of await repository.listExpired(now, batchSize, signal)) {
      await cancels.cancel(upload.id, "expired").catch((error: unknown) => {
        log.error({ err: error, uploadId: upload.id }, "expiring an upload failed");
      });
    }
    for (const upload of await repository.listCleanupDue(now, batchSize, signal)) {
      await cancels.resumeCleanup(upload.id).catch((error: unknown) => {
        log.error({ err: error, uploadId: upload.id }, "cleanup retry failed");
      });
    }
    const forgotten = await repository.purgeFinished(now - this.deps.finishedRetentionMs, batchSize, signal);
    if (forgotten > 0) log.debug({ forgotten }, "forgot expired cancelled uploads");
    const pruned = await repository.pruneEvents(now - this.deps.eventRetentionMs, batchSize, signal);
    if (pruned > 0) log.debug({ pruned }, "forgot delivered and expired upload events");
    await this.#collectOrphansWhenDue(signal);
  }

  /** Under the sweep lock, so one instance at a time reconciles; a failed run waits for the next interval. */
  async #collectOrphansWhenDue(signal: AbortSignal): Promise<void> {
    const { gc, store, videos, repository } = this.deps;
    if (gc === undefined || Date.now() < this.#nextGcAt) return;
    this.#nextGcAt = Date.now() + gc.intervalMs;
    try {
      const report = await reconcileOrphans(
        { store, videos, repository, purge: gc.purge },
        { dryRun: false, graceMs: gc.graceMs },
        signal,
      );
      const fields = { scanned: report.scanned, orphans: report.orphans.length, removed: report.removed };
      const level = report.failed.length > 0 ? "warn" : "info";
      this.deps.log[level](
        { ...fields, failed: report.failed.length, removedBytes: report.removedBytes },
        `orphan reconciler: ${summarizeOrphanReport(report)}`,
      );
    } catch (error) {
      if (!signal.aborted) this.deps.log.error({ err: error }, "orphan reconciler run failed");
    }
  }

  /**
   * A cleanup attempt is due for the reaper only once its lease ran out (so no instance runs
   * a second attempt beside a live one), but an attempt this process was running when it
   * crashed is known dead now: it is resumed at start instead of a lease later. With several
   * instances, one still running its own attempt may see a second one beside it here: the
   * purge is idempotent and the report counts both.
   */
  async #resumeInterruptedCleanups(): Promise<void> {
    const { repository, cancels, log, batchSize } = this.deps;
    const signal = this.#lifetime.signal;
    const interrupted = await repository.listCleanupDue(Number.MAX_SAFE_INTEGER, batchSize, signal);
    for (const upload of interrupted) {
      await cancels.resumeCleanup(upload.id).catch((error: unknown) => {
        log.error({ err: error, uploadId: upload.id }, "resuming an interrupted cleanup failed");
      });
    }
  }

  /**
   * A crash during `complete` leaves the upload `completing`: its half-joined file is a temp
   * file in the upload's folder. Drop it (and any video it became) and let the client complete again.
   */
  async #recoverInterruptedCompletes(): Promise<void> {
    const { repository, store, videos, log } = this.deps;
    const signal = this.#lifetime.signal;
    for (const upload of await repository.listStuckCompleting(signal)) {
      const live = await this.deps.writes.drain(upload.id, { timeoutMs: 0, signal });
      if (!live.drained) continue;
      if (upload.videoId !== undefined) {
        await videos.deleteVideo(upload.videoId, signal);
        await repository.deleteVideo(upload.videoId, signal);
      }
      // On disk, discard drops the half-joined temp file and keeps the segments. A store that
      // cannot delete segments one by one (S3) discards the whole multipart upload, parts and
      // all, so there the rollback leaves storage as it is: it has no temp file to drop.
      if (store.deletesSegmentsIndividually) {
        await store.discardUpload({ id: upload.id, storageRef: upload.storageRef }, signal);
      }
      await repository.transition(upload.id, ["completing"], "uploading", {}, signal);
      log.warn(
        { uploadId: upload.id },
        "interrupted complete rolled back; the upload can be completed again",
      );
    }
  }
}
