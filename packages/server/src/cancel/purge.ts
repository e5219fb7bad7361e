import {
  type CleanupFailure,
  isCleancutError,
  type Remnant,
  type SegmentStore,
  type UploadHandle,
} from "@cleancut/core";
import { type BackoffPolicy, withRetries } from "./backoff.js";

export interface PurgeResult {
  deletedSegments: number;
  deletedBytes: number;
  failures: CleanupFailure[];
  /** What storage still holds after the purge, listed anew; undefined when even listing failed. */
  remnants: Remnant[] | undefined;
}

export interface PurgeOptions {
  /** Tries per storage call before it counts as a failure of this attempt. */
  tries: number;
  backoff: BackoffPolicy;
  concurrency: number;
}

/**
 * Lists what storage holds for the upload, deletes each segment (or, for a store that cannot
 * delete one segment, all of them with the rest), removes the rest, and lists again. Nothing
 * here trusts a delete call: only the second listing says what is gone.
 */
export async function purgeUploadStorage(
  store: SegmentStore,
  upload: UploadHandle,
  options: PurgeOptions,
  signal: AbortSignal,
): Promise<PurgeResult> {
  const failures: CleanupFailure[] = [];
  const retrying = <T>(work: () => Promise<T>) => withRetries(options.tries, options.backoff, work, signal);
  let deletedSegments = 0;
  let deletedBytes = 0;

  const segments = await retrying(() => store.listSegments(upload, signal)).catch((error: unknown) => {
    failures.push(failureOf("listing", error));
    return [];
  });
  if (store.deletesSegmentsIndividually) {
    await forEachLimit(segments, options.concurrency, async (segment) => {
      try {
        await retrying(() => store.deleteSegment(upload, segment.index, signal));
        deletedSegments += 1;
        deletedBytes += segment.size;
      } catch (error) {
        failures.push(failureOf(`segment ${segment.index}`, error, segment.index));
      }
    });
  }
  // A store that cannot delete one segment (S3 multipart) drops them all here.
  const remnants = await discardThenList(store, upload, retrying, failures, signal);
  if (!store.deletesSegmentsIndividually && remnants !== undefined) {
    // No delete call is trusted: a segment counts as deleted only if the listing before the
    // discard had it and the verification listing no longer does. Unverified: none counted.
    const left = new Set(remnants.flatMap((remnant) => (remnant.index === undefined ? [] : [remnant.index])));
    for (const segment of segments) {
      if (left.has(segment.index)) continue;
      deletedSegments += 1;
      deletedBytes += segment.size;
    }
  }
  return { deletedSegments, deletedBytes, failures, remnants };
}

/**
 * The purge of an upload whose video is safe (`completed`). On a store that deletes segments
 * one by one (disk) the segments are other names of the video's parts (hard links: removing
 * them leaves the video whole): the full purge above. On one that cannot (S3), `assemble`
 * turned the segments into the video itself, so there is no segment to list or count, let
 * alone delete: `discardUpload` removes what is left besides the video
 * (a partial segment, a stray multipart upload at the key) until its own listing finds
 * nothing, and `listRemnants` lists anew what storage still holds.
 */
export async function purgeCompletedUpload(
  store: SegmentStore,
  upload: UploadHandle,
  options: PurgeOptions,
  signal: AbortSignal,
): Promise<PurgeResult> {
  if (store.deletesSegmentsIndividually) return purgeUploadStorage(store, upload, options, signal);
  const failures: CleanupFailure[] = [];
  const retrying = <T>(work: () => Promise<T>) => withRetries(options.tries, options.backoff, work, signal);
  const remnants = await discardThenList(store, upload, retrying, failures, signal);
  return { deletedSegments: 0, deletedBytes: 0, failures, remnants };
}

/**
 * The end of every purge: remove what is left of the upload, then list storage anew (or take
 * the listing the store's discard made after its own deletes: S3's, which saves a cancel one
 * more round of requests).
 */
async function discardThenList(
  store: SegmentStore,
  upload: UploadHandle,
  retrying: <T>(work: () => Promise<T>) => Promise<T>,
  failures: CleanupFailure[],
  signal: AbortSignal,
): Promise<Remnant[] | undefined> {
  const listed = await retrying(() => store.discardUpload(upload, signal)).catch((error: unknown) => {
    failures.push(failureOf("upload container", error));
    return undefined;
  });
  if (listed !== undefined) return listed;
  return retrying(() => store.listRemnants(upload, signal)).catch((error: unknown) => {
    failures.push(failureOf("verification listing", error));
    return undefined;
  });
}

export function failureOf(name: string, error: unknown, index?: number): CleanupFailure {
  const code = isCleancutError(error)
    ? error.code
    : ((error as NodeJS.ErrnoException).code ?? "storage_error");
  const message = error instanceof Error ? error.message : String(error);
  return index === undefined ? { name, code, message } : { index, name, code, message };
}

export async function forEachLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  });
  await Promise.all(lanes);
}
