import type { SegmentStore, StoredEntry, UploadRepository, VideoStore } from "@cleancut/core";
import { failureOf, type PurgeOptions, purgeUploadStorage } from "../cancel/purge.js";
import { stillOrphan } from "./find-orphans.js";
import type { OrphanFailure, OrphanReason } from "./orphan-report.js";

export interface OrphanGroup {
  owner: StoredEntry["owner"];
  id: string;
  entries: Array<{ entry: StoredEntry; reason: OrphanReason }>;
}

export interface RemovalDeps {
  store: SegmentStore;
  videos: VideoStore;
  repository: UploadRepository;
  purge: PurgeOptions;
}

export interface RemovalResult {
  removed: number;
  removedBytes: number;
  failed: OrphanFailure[];
}

/**
 * Removes one owner's orphans through the store's own calls, never a blind recursive delete:
 * an upload's container the way a cancel does (list segments, delete each or discard them
 * all, then list remnants again), a video with `deleteVideo` then `statVideo`. Only a listing
 * afterwards counts something as removed. The owner is looked up once more first: if a record
 * or row appeared meanwhile, nothing is touched.
 */
export async function removeOrphanGroup(
  deps: RemovalDeps,
  group: OrphanGroup,
  signal: AbortSignal,
): Promise<RemovalResult> {
  const result: RemovalResult = { removed: 0, removedBytes: 0, failed: [] };
  const fail = (entry: StoredEntry, code: string, message: string) =>
    result.failed.push({ id: group.id, kind: entry.kind, name: entry.name, code, message });
  const live: typeof group.entries = [];
  for (const item of group.entries) {
    if (await stillOrphan(item.entry, item.reason, deps.repository, signal)) live.push(item);
    else fail(item.entry, "owner_appeared", "an owner appeared since the listing; left alone");
  }
  const containers = live.filter(({ entry }) => entry.kind !== "video");
  const videos = live.filter(({ entry }) => entry.kind === "video");
  const first = containers[0];
  if (first !== undefined) {
    const record = await deps.repository.getUpload(group.id, signal);
    const storageRef = record?.storageRef ?? first.entry.storageRef ?? group.id;
    const purged = await purgeUploadStorage(deps.store, { id: group.id, storageRef }, deps.purge, signal);
    const verified = purged.remnants !== undefined && purged.remnants.length === 0;
    for (const { entry } of containers) {
      if (verified) {
        result.removed += 1;
        result.removedBytes += entry.bytes;
        continue;
      }
      const left = (purged.remnants ?? []).map((remnant) => `${remnant.name} (${remnant.size} B)`);
      const errors = purged.failures.map((failure) => `${failure.name}: ${failure.message}`);
      fail(
        entry,
        purged.failures[0]?.code ?? "not_verified",
        [...errors, ...left].join("; ") || "not verified",
      );
    }
  }
  for (const { entry } of videos) {
    const key = entry.videoKey ?? entry.ownerId;
    try {
      await deps.videos.deleteVideo(key, signal);
      const size = await deps.videos.statVideo(key, signal);
      if (size === undefined) {
        result.removed += 1;
        result.removedBytes += entry.bytes;
      } else fail(entry, "not_verified", `video ${key} still there (${size} B) after deleteVideo`);
    } catch (error) {
      const failure = failureOf(entry.name, error);
      fail(entry, failure.code, failure.message);
    }
  }
  return result;
}
