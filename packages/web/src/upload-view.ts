import {
  BlobSource,
  type CancelJournal,
  type ClientCancelReport,
  createUpload,
  type IndexedDbUploadSessions,
  type Upload,
  type UploadRef,
  XhrTransport,
} from "@cleancut/client";
import { byId } from "./dom";
import { endpoint } from "./endpoint";
import { formatBytes, formatEta, formatRate } from "./format";
import { renderPending, renderReport } from "./report";
import { SegmentMap } from "./segment-map";
import type { UploadsList } from "./uploads-list";

export interface StartOptions {
  segmentSize?: number;
  concurrency: number;
  /** An upload that exists already (app-issued, or left by the last visit): attach to it instead of creating one. */
  upload?: UploadRef;
}

/**
 * The "current upload" card: runs one Upload through the SDK and shows it — the segment map,
 * progress, pause/resume, and a Cancel that turns into the cleanup's progress and its report.
 */
export class UploadView {
  readonly #card = byId<HTMLElement>("current");
  readonly #map = new SegmentMap(byId<HTMLOListElement>("segment-map"));
  readonly #progress = byId<HTMLProgressElement>("progress");
  readonly #progressText = byId<HTMLElement>("progress-text");
  readonly #phase = byId<HTMLElement>("phase");
  readonly #report = byId<HTMLElement>("report");
  readonly #pause = byId<HTMLButtonElement>("pause");
  readonly #resume = byId<HTMLButtonElement>("resume");
  readonly #cancel = byId<HTMLButtonElement>("cancel");
  readonly #another = byId<HTMLButtonElement>("another");
  readonly #preview = byId<HTMLVideoElement>("preview");
  #upload: Upload | undefined;
  #previewUrl: string | undefined;

  constructor(
    private readonly journal: CancelJournal,
    private readonly sessions: IndexedDbUploadSessions,
    private readonly list: UploadsList,
    private readonly onPendingCancel: () => void,
    private readonly onFinished: () => void,
  ) {
    this.#pause.addEventListener("click", () => this.#upload?.pause());
    this.#resume.addEventListener("click", () => this.#upload?.resume());
    this.#cancel.addEventListener("click", () => void this.cancel());
    this.#another.addEventListener("click", () => this.#close());
  }

  get busy(): boolean {
    const state = this.#upload?.state;
    return state !== undefined && !["completed", "cancelled", "failed"].includes(state);
  }

  start(file: File, options: StartOptions): void {
    this.#reset(file);
    const upload = createUpload(new BlobSource(file), {
      endpoint,
      transport: new XhrTransport(),
      journal: this.journal,
      concurrency: options.concurrency,
      ...(options.segmentSize === undefined ? {} : { segmentSize: options.segmentSize }),
      ...(options.upload === undefined ? {} : { upload: options.upload }),
    });
    this.#upload = upload;
    let recorded = false;
    upload.on("state", (state) => {
      this.#showState(state);
      if (state === "uploading" && !recorded && upload.id !== undefined && upload.token !== undefined) {
        recorded = true;
        this.#card.dataset.uploadId = upload.id;
        this.#map.reset(upload.segmentCount ?? 0);
        void this.#remember(upload, file);
      }
    });
    upload.on("segment-progress", (segment) => {
      this.#map.set(segment.index, segment.state, segment.size === 0 ? 1 : segment.sent / segment.size);
    });
    upload.on("progress", (progress) => {
      this.#progress.value = progress.totalBytes === 0 ? 1 : progress.bytesSent / progress.totalBytes;
      const percent = Math.floor(this.#progress.value * 100);
      const inFlight = this.#map.indexesIn("sending").length;
      this.#progressText.textContent =
        `${percent} % · ${formatBytes(progress.bytesSent)} of ${formatBytes(progress.totalBytes)} · ` +
        `${formatRate(progress.rate)} · ${formatEta(progress.etaSeconds)} · ` +
        `segments ${upload.segmentsDone}/${upload.segmentCount ?? "?"}, ${inFlight} in flight`;
      if (upload.id !== undefined) this.list.upsert({ id: upload.id, state: `uploading ${percent} %` });
    });
    upload.on("cancel-progress", (progress) => {
      const total = progress.deletedSegments + progress.remainingSegments;
      this.#map.showDeleted(progress.deletedSegments);
      this.#phase.textContent =
        progress.state === "cancelled"
          ? "Checking storage is empty…"
          : `Deleting segments: ${progress.deletedSegments} of ${total} deleted (attempt ${progress.attempts})…`;
    });
    upload.done.then(
      (video) => this.#completed(upload, video.videoId),
      (error: unknown) => this.#failed(upload, error),
    );
    upload.start();
  }

  async cancel(): Promise<void> {
    const upload = this.#upload;
    if (upload === undefined || !this.busy) return;
    this.#cancel.disabled = true;
    this.#phase.textContent = "Stopping every transfer…";
    const percent = Math.floor(this.#progress.value * 100);
    this.#progressText.textContent = `Stopped at ${percent} %: no more bytes are sent.`;
    if (upload.id !== undefined) this.list.upsert({ id: upload.id, state: "cancelling…" });
    this.#map.move("sending", "waiting");
    this.#map.move("stored", "deleting");
    try {
      const report = await upload.cancel();
      this.#cancelled(upload, report);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const message =
        code === "cleanup_unverified"
          ? "The server could not be reached. The cancel is saved in this browser and is retried until the server confirms storage is empty (also on your next visit)."
          : `The cancel failed: ${(error as Error).message}`;
      renderPending(this.#report, message);
      this.#phase.textContent = "Cleanup not confirmed yet — retrying.";
      if (upload.id !== undefined) {
        this.list.upsert({ id: upload.id, state: "cancelling · not confirmed yet" });
        await this.sessions.remove(upload.id);
      }
      this.onPendingCancel();
    }
  }

  /** A cancel that was finished later (journal retry): show its report if it is this upload. */
  showLateReport(id: string, report: ClientCancelReport): void {
    if (this.#upload?.id !== id) return;
    this.#map.move("deleting", "deleted");
    this.#map.move("stored", "deleted");
    renderReport(this.#report, report);
    this.#phase.textContent = "Cancelled and verified.";
    this.#another.hidden = false;
  }

  #cancelled(upload: Upload, report: ClientCancelReport): void {
    this.#map.move("deleting", "deleted");
    this.#map.move("sending", "waiting");
    renderReport(this.#report, report);
    this.#phase.textContent = "Cancelled and verified.";
    this.#another.hidden = false;
    const id = upload.id ?? report.id;
    if (id !== "" && id !== undefined) {
      this.#card.dataset.uploadId = id;
      this.list.upsert({ id, state: "cancelled · storage verified empty" });
      void this.sessions.remove(id);
    }
    this.onFinished();
  }

  #completed(upload: Upload, videoId: string): void {
    byId("result-slot").replaceChildren(...resultElements(videoId));
    byId("finished").hidden = false;
    this.#phase.textContent = "Uploaded. The server joined the segments and checked the video.";
    this.#another.hidden = false;
    if (upload.id !== undefined) {
      this.list.upsert({ id: upload.id, state: "completed", videoId });
      void this.sessions.remove(upload.id);
    }
    this.onFinished();
  }

  #failed(upload: Upload, error: unknown): void {
    if (upload.state !== "failed") return;
    const code = (error as { code?: string }).code;
    this.#phase.textContent = `The upload failed: ${(error as Error).message}${code === undefined ? "" : ` (${code})`}`;
    this.#another.hidden = false;
    if (upload.id !== undefined) this.list.upsert({ id: upload.id, state: `failed · ${code ?? "error"}` });
    this.onFinished();
  }

  async #remember(upload: Upload, file: File): Promise<void> {
    const id = upload.id as string;
    this.list.upsert({ id, name: file.name, size: file.size, state: "uploading" });
    await this.sessions.put({
      endpoint,
      id,
      token: upload.token as string,
      file: { name: file.name, size: file.size, type: file.type, lastModified: file.lastModified },
      segmentSize: upload.segmentSize ?? file.size,
      mode: "proxy",
      startedAt: new Date().toISOString(),
    });
  }

  #showState(state: Upload["state"]): void {
    this.#card.dataset.state = state;
    const paused = state === "paused";
    this.#pause.hidden = paused;
    this.#resume.hidden = !paused;
    const settled = state === "completed" || state === "cancelled" || state === "failed";
    this.#pause.disabled = settled || state === "cancelling" || state === "completing";
    this.#cancel.disabled = settled || state === "cancelling";
    const verbs: Partial<Record<Upload["state"], string>> = {
      completed: "Uploaded",
      cancelling: "Cancelling",
      cancelled: "Cancelled",
      failed: "Failed:",
    };
    byId("current-verb").textContent = verbs[state] ?? "Uploading";
    const words: Partial<Record<Upload["state"], string>> = {
      creating: "Creating the upload on the server…",
      uploading: "Uploading segments…",
      paused: "Paused. Nothing is being sent; resume continues from the segments the server holds.",
      completing: "All segments sent. The server is joining and checking the video…",
      cancelling: "Cancelling…",
      failed: "The upload failed.",
    };
    const text = words[state];
    if (text !== undefined) this.#phase.textContent = text;
  }

  #reset(file: File): void {
    this.#card.hidden = false;
    delete this.#card.dataset.uploadId;
    byId("file-name").textContent = file.name;
    byId("file-facts").textContent = `${formatBytes(file.size)} · ${file.type || "unknown type"}`;
    if (this.#previewUrl !== undefined) URL.revokeObjectURL(this.#previewUrl);
    this.#previewUrl = URL.createObjectURL(file);
    this.#preview.src = this.#previewUrl;
    this.#map.reset(0);
    this.#progress.value = 0;
    this.#progressText.textContent = "";
    this.#report.hidden = true;
    byId("finished").hidden = true;
    byId("result-slot").replaceChildren();
    this.#another.hidden = true;
    this.#cancel.disabled = false;
  }

  #close(): void {
    this.#card.hidden = true;
    this.#upload = undefined;
    if (this.#previewUrl !== undefined) URL.revokeObjectURL(this.#previewUrl);
    this.#previewUrl = undefined;
    this.#preview.removeAttribute("src");
  }
}

/** The finished video, played from the server, and a plain link to it. */
function resultElements(videoId: string): HTMLElement[] {
  const url = `v1/videos/${encodeURIComponent(videoId)}/content`;
  const video = document.createElement("video");
  video.id = "result";
  video.controls = true;
  video.playsInline = true;
  video.src = url;
  const link = document.createElement("a");
  link.href = url;
  link.textContent = "Open the video";
  const paragraph = document.createElement("p");
  paragraph.append(link);
  return [video, paragraph];
}
