import { formatBytes } from "./byte-size.js";

export interface TransferView {
  bytesSent: number;
  totalBytes: number;
  rate: number;
  etaSeconds: number | undefined;
  segmentsDone: number;
  segmentCount: number | undefined;
  inFlight: number;
}

export interface CleanupView {
  deletedSegments: number;
  remainingSegments: number;
  attempts: number;
}

/** One line: bar, percent, bytes, rate, ETA, segments done and in flight. */
export function renderTransfer(view: TransferView, width = 24): string {
  const fraction = view.totalBytes === 0 ? 0 : Math.min(1, view.bytesSent / view.totalBytes);
  const filled = Math.round(fraction * width);
  const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
  const percent = `${(fraction * 100).toFixed(1).padStart(5)}%`;
  const bytes = `${formatBytes(view.bytesSent)} / ${formatBytes(view.totalBytes)}`;
  const rate = view.rate > 0 ? `${formatBytes(view.rate)}/s` : "—/s";
  const eta = view.etaSeconds === undefined ? "ETA —" : `ETA ${formatDuration(view.etaSeconds)}`;
  const segments = `segments ${view.segmentsDone}/${view.segmentCount ?? "?"} (${view.inFlight} in flight)`;
  return `${bar} ${percent}  ${bytes}  ${rate}  ${eta}  ${segments}`;
}

/** What the bar turns into once Ctrl-C was pressed. */
export function renderCleanup(view: CleanupView | undefined): string {
  if (view === undefined) return "cancelling: stopping transfers…";
  const total = view.deletedSegments + view.remainingSegments;
  const retry = view.attempts > 1 ? ` (attempt ${view.attempts})` : "";
  return `cancelling: deleted ${view.deletedSegments} of ${total} segments, ${view.remainingSegments} remaining${retry}…`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  const whole = Math.max(0, Math.round(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
      ? `${m}m${String(s).padStart(2, "0")}s`
      : `${s}s`;
}

/**
 * Draws a line that is redrawn in place on a terminal and printed at most once a second
 * elsewhere (a log file should not get a line per frame).
 */
export class LiveLine {
  #lastPlain = 0;
  #drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  get interactive(): boolean {
    return this.stream.isTTY === true;
  }

  draw(text: string, force = false): void {
    if (this.interactive) {
      const columns = this.stream.columns ?? 120;
      this.stream.write(`\r\x1b[2K${text.slice(0, Math.max(20, columns - 1))}`);
      this.#drawn = true;
      return;
    }
    const now = Date.now();
    if (force || now - this.#lastPlain >= 1000) {
      this.#lastPlain = now;
      this.stream.write(`${text}\n`);
    }
  }

  /** Ends the live line so the next output starts on its own line. */
  done(): void {
    if (this.interactive && this.#drawn) this.stream.write("\n");
    this.#drawn = false;
  }
}
