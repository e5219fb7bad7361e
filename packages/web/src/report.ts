import type { ClientCancelReport } from "@cleancut/client";
import { formatBytes, formatMs, plural } from "./format";

const outcomes: Record<ClientCancelReport["outcome"], string> = {
  verified: "storage listed again: empty",
  nothing_created: "cancelled before the upload existed: nothing was stored",
  already_gone: "the server no longer had this upload: nothing of it is stored",
  video_deleted: "the upload had just finished: its video was deleted too, and checked gone",
};

/** The verified cancel report, as the person reads it. */
export function renderReport(target: HTMLElement, report: ClientCancelReport): void {
  target.hidden = false;
  target.className = "report";
  const title = document.createElement("h3");
  title.textContent = "Cancelled. Nothing of this upload is left in storage.";
  const facts: Array<[string, string]> = [
    ["Segments deleted", `${report.deletedSegments} (${formatBytes(report.deletedBytes)})`],
    ["Transfers stopped", String(report.abortedTransfers)],
    ["Left in storage", plural(report.remainingSegments, "segment")],
    ["Check", outcomes[report.outcome]],
    ["Cancel to verified", formatMs(report.durationMs)],
    ["Cleanup attempts", String(report.attempts)],
  ];
  target.replaceChildren(title, definitionList(facts));
  target.dataset.verified = String(report.verified);
  target.dataset.outcome = report.outcome;
}

/** A cancel the server has not confirmed yet: it is kept in this browser and retried. */
export function renderPending(target: HTMLElement, message: string): void {
  target.hidden = false;
  target.className = "report unverified";
  const title = document.createElement("h3");
  title.textContent = "Cancel saved, cleanup not confirmed yet";
  const text = document.createElement("p");
  text.textContent = message;
  target.replaceChildren(title, text);
  target.dataset.verified = "false";
  delete target.dataset.outcome;
}

function definitionList(facts: Array<[string, string]>): HTMLDListElement {
  const dl = document.createElement("dl");
  for (const [term, value] of facts) {
    const dt = document.createElement("dt");
    dt.textContent = term;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dl.append(dt, dd);
  }
  return dl;
}
