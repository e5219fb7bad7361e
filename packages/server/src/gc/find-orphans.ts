import type { StoredEntry, UploadRecord, UploadRepository } from "@cleancut/core";
import type { OrphanReason } from "./orphan-report.js";

export interface Classified {
  entry: StoredEntry;
  /** Undefined: the entry is owned (or its owner is busy) and must be left alone. */
  reason: OrphanReason | undefined;
  young: boolean;
}

/**
 * Looks each upload id / video id up once. `getUpload` and `getVideo` are all the reconciler
 * needs from the repository: storage is listed, the database is only asked about what it lists.
 */
export class OwnerLookup {
  readonly #uploads = new Map<string, Promise<UploadRecord | undefined>>();
  readonly #videos = new Map<string, Promise<string | undefined>>();

  constructor(
    private readonly repository: UploadRepository,
    private readonly signal: AbortSignal,
  ) {}

  upload(id: string): Promise<UploadRecord | undefined> {
    let found = this.#uploads.get(id);
    if (found === undefined) {
      found = this.repository.getUpload(id, this.signal);
      this.#uploads.set(id, found);
    }
    return found;
  }

  /** The storage key of video `id`'s row, or undefined when there is no row. */
  videoKey(id: string): Promise<string | undefined> {
    let found = this.#videos.get(id);
    if (found === undefined) {
      found = this.repository.getVideo(id, this.signal).then((video) => video?.storageKey);
      this.#videos.set(id, found);
    }
    return found;
  }
}

/**
 * Whether one stored entry is an orphan. Anything that changed within `graceMs` is young
 * and left alone: the create route begins storage before it inserts the record, and
 * `complete` writes the video before its row, so a fresh entry without an owner may just be
 * one whose owner is being written.
 */
export async function classifyEntry(
  entry: StoredEntry,
  lookup: OwnerLookup,
  now: number,
  graceMs: number,
): Promise<Classified> {
  // Swift rounds its times up to the next second, so a zero grace must not compare at all.
  const young = (at: number) => graceMs > 0 && now - at < graceMs;
  if (young(entry.modifiedAt)) return { entry, reason: undefined, young: true };
  if (entry.owner === "video") {
    const key = await lookup.videoKey(entry.ownerId);
    return { entry, reason: key === entry.videoKey ? undefined : "no_video_row", young: false };
  }
  const record = await lookup.upload(entry.ownerId);
  if (record === undefined) return { entry, reason: "no_record", young: false };
  const owned = { entry, reason: undefined, young: false };
  switch (record.state) {
    case "uploading":
    case "completing":
    case "cancelling":
      // The upload, complete and cancel machinery own these: never touched here.
      return owned;
    case "cancelled":
    case "failed":
      if (young(record.updatedAt)) return { entry, reason: undefined, young: true };
      return {
        entry,
        reason: record.state === "cancelled" ? "upload_cancelled" : "upload_failed",
        young: false,
      };
    case "completed": {
      // Its segments are the complete path's to purge; its video must be the one its row names.
      if (entry.kind !== "video") return owned;
      const key = record.videoId === undefined ? undefined : await lookup.videoKey(record.videoId);
      return key === entry.videoKey ? owned : { entry, reason: "no_video_row", young: false };
    }
  }
}

/** Whether the orphan's reason still holds when asked again, just before removing it. */
export async function stillOrphan(
  entry: StoredEntry,
  reason: OrphanReason,
  repository: UploadRepository,
  signal: AbortSignal,
): Promise<boolean> {
  const fresh = new OwnerLookup(repository, signal);
  const again = await classifyEntry(entry, fresh, Number.POSITIVE_INFINITY, 0);
  return again.reason === reason;
}
