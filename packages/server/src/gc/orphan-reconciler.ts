import type { SegmentStore, UploadRepository, VideoStore } from "@cleancut/core";
import type { PurgeOptions } from "../cancel/purge.js";
import { classifyEntry, OwnerLookup } from "./find-orphans.js";
import type { Orphan, OrphanReport } from "./orphan-report.js";
import { type OrphanGroup, removeOrphanGroup } from "./remove-orphans.js";

export { type Orphan, type OrphanReport, summarizeOrphanReport } from "./orphan-report.js";

/** Ten minutes: far longer than a create (storage begun, record not yet written) or a complete (video written, row not yet) takes. */
export const defaultOrphanGraceMs = 10 * 60 * 1000;

export interface OrphanReconcilerDeps {
  store: SegmentStore;
  videos: VideoStore;
  repository: UploadRepository;
  purge: PurgeOptions;
}

export interface ReconcileOptions {
  dryRun: boolean;
  /** Entries (and records) that changed more recently than this are left alone. */
  graceMs?: number;
  now?: () => number;
}

/**
 * Finds what storage holds that no live upload owns and removes it. Storage is the source:
 * it lists itself (`listStoredEntries`), and every entry is then looked up in the database.
 * Orphans: an upload id with no record, or whose record is `cancelled`/`failed` (a verified
 * cleanup left nothing, so anything there is a leftover), and finished videos no videos row
 * points at. Records `uploading`/`completing`/`cancelling` belong to their own machinery and
 * are never touched. An owner's entries are removed only when all of them are orphans, so
 * discarding an upload's container can never take a live sibling with it. A dry run lists only.
 */
export async function reconcileOrphans(
  deps: OrphanReconcilerDeps,
  options: ReconcileOptions,
  signal: AbortSignal,
): Promise<OrphanReport> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const graceMs = options.graceMs ?? defaultOrphanGraceMs;
  const entries = await deps.store.listStoredEntries(signal);
  const lookup = new OwnerLookup(deps.repository, signal);
  const orphans: Orphan[] = [];
  const groups = new Map<string, OrphanGroup & { spared: boolean }>();
  let young = 0;
  for (const entry of entries) {
    const classified = await classifyEntry(entry, lookup, startedAt, graceMs);
    if (classified.young) young += 1;
    const groupKey = `${entry.owner}:${entry.ownerId}`;
    const group = groups.get(groupKey) ?? {
      owner: entry.owner,
      id: entry.ownerId,
      entries: [],
      spared: false,
    };
    groups.set(groupKey, group);
    if (classified.reason === undefined) {
      group.spared = true;
      continue;
    }
    const { ownerId: id, owner, kind, name, bytes } = entry;
    orphans.push({ id, owner, kind, name, bytes, reason: classified.reason });
    group.entries.push({ entry, reason: classified.reason });
  }
  const report: OrphanReport = {
    scanned: entries.length,
    orphans,
    removed: 0,
    removedBytes: 0,
    failed: [],
    young,
    dryRun: options.dryRun,
    graceMs,
    durationMs: 0,
  };
  if (!options.dryRun) {
    for (const group of groups.values()) {
      if (group.entries.length === 0) continue;
      if (group.spared) {
        for (const { entry } of group.entries) {
          report.failed.push({
            id: group.id,
            kind: entry.kind,
            name: entry.name,
            code: "owner_has_live_entries",
            message: "another entry of the same owner is live or young; left alone until the next run",
          });
        }
        continue;
      }
      const removal = await removeOrphanGroup(deps, group, signal);
      report.removed += removal.removed;
      report.removedBytes += removal.removedBytes;
      report.failed.push(...removal.failed);
    }
  }
  report.durationMs = now() - startedAt;
  return report;
}
