import {
  AbortedError,
  type StoredSegment,
  TypedEmitter,
  type Unsubscribe,
  UploadCompletedError,
  type VideoInfo,
} from "@cleancut/core";
import { type ClientCancelReport, emptyReport } from "../cancel/client-cancel-report.js";
import { confirmCancel } from "../cancel/confirm-cancel.js";
import { deleteRacingVideo } from "../cancel/racing-video.js";
import { ApiClient } from "../http/api-client.js";
import { CountingTransport } from "../http/counting-transport.js";
import { withRetry } from "../retry.js";
import type { UploadSource } from "../source/upload-source.js";
import { type CreatedUpload, createOrAttach } from "./attach.js";
import { listStored, verifyDeleted } from "./cleanup-ops.js";
import type { SegmentProgress, UploadEvents, UploadPhase } from "./events.js";
import { isStopReason, Lifecycle, type StopReason } from "./lifecycle.js";
import type { ResolvedOptions } from "./options.js";
import { ProgressTracker } from "./progress.js";
import { heldIndexes, sendSegments } from "./send-segments.js";

/** One upload: parallel segments, pause/resume, and a cancel that resolves with a verified report. */
export class Upload {
  /** The video once completed. Rejects with the typed error; after cancel with `AbortedError` (details.report). */
  readonly done: Promise<VideoInfo>;
  readonly #options: ResolvedOptions;
  readonly #source: UploadSource;
  readonly #transport: CountingTransport;
  readonly #api: ApiClient;
  readonly #events = new TypedEmitter<UploadEvents>();
  readonly #lifecycle = new Lifecycle((phase) => this.#events.emit("state", phase));
  readonly #progress: ProgressTracker;
  /** Never aborted by pause or cancel: a create, once sent, is always seen through (no orphans). */
  readonly #createSignal = new AbortController().signal;
  #settle!: { resolve(video: VideoInfo): void; reject(error: unknown): void };
  #created: Promise<CreatedUpload> | undefined;
  #createdValue: CreatedUpload | undefined;
  #run: { controller: AbortController; settled: Promise<void> } | undefined;
  #runs = 0;
  #segmentsDone = 0;
  #cancel: Promise<ClientCancelReport> | undefined;

  constructor(source: UploadSource, options: ResolvedOptions) {
    this.#source = source;
    this.#options = options;
    this.#transport = new CountingTransport(options.transport);
    this.#api = new ApiClient(this.#transport, options.endpoint);
    this.#progress = new ProgressTracker(source.size, options.progressIntervalMs, (progress) =>
      this.#events.emit("progress", progress),
    );
    this.done = new Promise<VideoInfo>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    // Nobody may be listening to `done` (fire-and-forget uploads): never an unhandled rejection.
    this.done.catch(() => {});
  }

  get state(): UploadPhase {
    return this.#lifecycle.phase;
  }
  /** The server's upload id, once created. */
  get id(): string | undefined {
    return this.#createdValue?.ref.id;
  }
  /** The upload's bearer token, once created: keep it with the id to attach later (`upload`). */
  get token(): string | undefined {
    return this.#createdValue?.ref.token;
  }
  /** HTTP requests of this upload still open. 0 after cancel() settles. */
  get activeRequests(): number {
    return this.#transport.active;
  }
  /** Known once created. */
  get segmentCount(): number | undefined {
    return this.#createdValue?.layout.segmentCount;
  }
  /** The segment size the server settled on, once created. */
  get segmentSize(): number | undefined {
    return this.#createdValue?.layout.segmentSize;
  }
  /** Segments the server holds: found there at (re)start plus those sent since. */
  get segmentsDone(): number {
    return this.#segmentsDone;
  }
  get bytesSent(): number {
    return this.#progress.bytesSent;
  }

  on<K extends keyof UploadEvents>(event: K, listener: (payload: UploadEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  start(): this {
    if (!this.#lifecycle.to("creating")) return this;
    this.#created = createOrAttach(this.#api, this.#source, this.#options, this.#createSignal);
    this.#created.then((created) => (this.#createdValue = created)).catch(() => {});
    this.#launch();
    return this;
  }

  /** Stops sending; segments in flight are aborted (the server keeps none of them half-written). */
  pause(): void {
    if (this.#lifecycle.to("paused")) this.#stopRun({ kind: "pause" });
  }

  /** Continues from the segments the server holds (listed again), not from zero. */
  resume(): void {
    if (this.state !== "paused") return;
    this.#lifecycle.to(this.#createdValue === undefined ? "creating" : "uploading");
    this.#launch();
  }

  /** Cancels and deletes every uploaded byte; resolves with the verified report. Same promise every call. */
  cancel(): Promise<ClientCancelReport> {
    this.#cancel ??= this.#runCancel();
    return this.#cancel;
  }
  cancelUpload(): Promise<ClientCancelReport> {
    return this.cancel();
  }

  /** The segments storage holds for this upload, listed from storage. */
  async getUploadedVideoSegments(signal: AbortSignal = this.#createSignal): Promise<StoredSegment[]> {
    const created = await this.#createdOrUndefined();
    return created === undefined ? [] : listStored(this.#api, created.ref, signal);
  }

  /** Deletes one stored segment (idempotent). Only while the upload is still uploading. */
  async deleteVideoSegment(segmentId: number, signal: AbortSignal = this.#createSignal): Promise<void> {
    const created = await this.#createdOrUndefined();
    if (created !== undefined) await this.#api.deleteSegment(created.ref, segmentId, signal);
  }

  /** True when none of `segments` is still in storage and the upload is cancelled (verified) or gone. */
  async verifyDeletion(
    segments: StoredSegment[],
    signal: AbortSignal = this.#createSignal,
  ): Promise<boolean> {
    const created = await this.#createdOrUndefined();
    return created === undefined ? true : verifyDeleted(this.#api, created.ref, segments, signal);
  }

  async #createdOrUndefined(): Promise<CreatedUpload | undefined> {
    return this.#created?.catch(() => undefined);
  }

  #stopRun(reason: StopReason): void {
    this.#run?.controller.abort(reason);
  }

  /** A run waits for the previous one to settle, so two runs never send at once. */
  #launch(): void {
    const controller = new AbortController();
    const previous = this.#run?.settled ?? Promise.resolve();
    const settled = previous.then(() => this.#main(controller.signal));
    this.#run = { controller, settled };
  }

  async #main(signal: AbortSignal): Promise<void> {
    try {
      signal.throwIfAborted();
      const created = await (this.#created as Promise<CreatedUpload>);
      signal.throwIfAborted();
      this.#lifecycle.to("uploading");
      const { api, retry, concurrency, sha256, mode } = { api: this.#api, ...this.#options };
      const resuming = created.resumed || this.#runs++ > 0;
      const stored = resuming
        ? await withRetry(retry, signal, () => api.listSegments(created.ref, signal))
        : [];
      const held = heldIndexes(created.layout, stored);
      this.#segmentsDone = held.size;
      for (const segment of stored) {
        if (held.has(segment.index))
          this.#events.emit("segment-progress", { ...segment, sent: segment.size, state: "stored" });
      }
      this.#progress.begin(stored.filter((s) => held.has(s.index)).reduce((sum, s) => sum + s.size, 0));
      const ctx = {
        api,
        source: this.#source,
        ref: created.ref,
        layout: created.layout,
        concurrency,
        retry,
        sha256,
        mode,
      };
      const onSegmentProgress = (progress: SegmentProgress) =>
        this.#events.emit("segment-progress", progress);
      await sendSegments(
        { ...ctx, onSegment: (segment) => this.#onSegment(segment), onSegmentProgress },
        held,
        signal,
      );
      signal.throwIfAborted();
      this.#progress.flush();
      this.#lifecycle.to("completing");
      const video = await withRetry(retry, signal, () => api.complete(created.ref, signal));
      this.#lifecycle.to("completed");
      this.#settle.resolve(video);
      await this.#source.close();
    } catch (error) {
      // Paused or cancelled: whoever stopped the run owns what happens next.
      if (signal.aborted && isStopReason(signal.reason)) return;
      await this.#fail(error);
    }
  }

  #onSegment(segment: StoredSegment): void {
    this.#segmentsDone += 1;
    this.#events.emit("segment", segment);
    this.#events.emit("segment-progress", { ...segment, sent: segment.size, state: "stored" });
    this.#progress.add(segment.size);
  }

  async #fail(error: unknown): Promise<void> {
    this.#progress.stop();
    if (this.#lifecycle.to("failed")) {
      this.#events.emit("error", error instanceof Error ? error : new Error(String(error)));
      this.#settle.reject(error);
    }
    await this.#source.close().catch(() => {});
  }

  async #runCancel(): Promise<ClientCancelReport> {
    const requestedAt = new Date().toISOString();
    if (this.state === "completed") {
      // The video exists: the server refuses (409 upload_completed). Delete the video instead.
      const created = this.#createdValue as CreatedUpload;
      await this.#api.cancel(created.ref, this.#createSignal);
      throw new UploadCompletedError(`upload ${created.ref.id} is completed`);
    }
    this.#lifecycle.to("cancelling");
    this.#stopRun({ kind: "cancel" });
    this.#progress.stop();
    try {
      // Waits for a pending create (never orphan an upload) and for aborted requests to settle.
      const created = await this.#createdOrUndefined();
      await this.#run?.settled;
      await this.#source.close();
      const report =
        created === undefined
          ? emptyReport("", requestedAt, "nothing_created")
          : await this.#confirm(created, requestedAt);
      this.#lifecycle.to("cancelled");
      this.#settle.reject(new AbortedError("the upload was cancelled", { details: { report } }));
      return report;
    } catch (error) {
      this.#lifecycle.to("failed");
      this.#events.emit("error", error instanceof Error ? error : new Error(String(error)));
      this.#settle.reject(new AbortedError("the upload was cancelled", { cause: error }));
      throw error;
    }
  }

  async #confirm(created: CreatedUpload, requestedAt: string): Promise<ClientCancelReport> {
    const { journal, endpoint, retry, cancelPollTimeoutMs } = this.#options;
    const entry = { endpoint, id: created.ref.id, token: created.ref.token, requestedAt };
    const signal = this.#createSignal;
    // Journal first: if the DELETE never gets through, the cancel is not forgotten.
    await journal.add(entry, signal);
    const report = await confirmCancel(this.#api, entry, {
      retry,
      signal,
      pollTimeoutMs: cancelPollTimeoutMs,
      onProgress: (progress) => this.#events.emit("cancel-progress", progress),
    }).catch((error: unknown) =>
      deleteRacingVideo(this.#api, created.ref, requestedAt, error, retry, signal),
    );
    await journal.remove(entry.id, signal);
    return report;
  }
}
