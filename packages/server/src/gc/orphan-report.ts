import type { StoredEntry } from "@cleancut/core";

/**
 * Why an entry counts as an orphan:
 * - `no_record`: its upload id has no upload record at all;
 * - `upload_cancelled` / `upload_failed`: its upload ended with a verified cleanup, so
 *   anything storage still holds for it is a leftover;
 * - `no_video_row`: a finished video that no row of the videos table points at.
 */
export type OrphanReason = "no_record" | "upload_cancelled" | "upload_failed" | "no_video_row";

export interface Orphan {
  /** The upload id (or, for a disk video file, the video id) storage files it under. */
  id: string;
  owner: StoredEntry["owner"];
  kind: StoredEntry["kind"];
  name: string;
  bytes: number;
  reason: OrphanReason;
}

export interface OrphanFailure {
  id: string;
  kind: StoredEntry["kind"];
  name: string;
  code: string;
  message: string;
}

export interface OrphanReport {
  /** Entries storage listed. */
  scanned: number;
  orphans: Orphan[];
  /** Orphans whose removal was verified by listing storage again (0 in a dry run). */
  removed: number;
  removedBytes: number;
  failed: OrphanFailure[];
  /** Entries left alone because they (or their record) changed within the grace period. */
  young: number;
  dryRun: boolean;
  graceMs: number;
  durationMs: number;
}

/** One line for a log or a terminal. */
export function summarizeOrphanReport(report: OrphanReport): string {
  const bytes = report.orphans.reduce((sum, orphan) => sum + orphan.bytes, 0);
  const action = report.dryRun
    ? "dry run, nothing removed"
    : `${report.removed} removed (${report.removedBytes} B), ${report.failed.length} failed`;
  return `${report.scanned} stored entries scanned, ${report.orphans.length} orphans (${bytes} B), ${action}, ${report.young} within the grace period`;
}
