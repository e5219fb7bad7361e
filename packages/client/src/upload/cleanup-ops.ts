import { isCleancutError, type StoredSegment } from "@cleancut/core";
import type { ApiClient, UploadRef } from "../http/api-client.js";

const gone = (error: unknown) => isCleancutError(error) && error.code === "upload_not_found";

/** What storage holds for the upload, listed by the server from storage itself. Gone = nothing. */
export async function listStored(
  api: ApiClient,
  ref: UploadRef,
  signal: AbortSignal,
): Promise<StoredSegment[]> {
  try {
    return await api.listSegments(ref, signal);
  } catch (error) {
    if (gone(error)) return [];
    throw error;
  }
}

/**
 * True only when storage lists none of `segments` any more AND the upload is cancelled with a
 * verified report (or the server no longer knows it). An empty listing alone is not enough: a
 * segment still streaming in could appear after it.
 */
export async function verifyDeleted(
  api: ApiClient,
  ref: UploadRef,
  segments: readonly StoredSegment[],
  signal: AbortSignal,
): Promise<boolean> {
  const listed = new Set((await listStored(api, ref, signal)).map((segment) => segment.index));
  if (segments.some((segment) => listed.has(segment.index))) return false;
  try {
    const status = await api.status(ref, signal);
    const finished = status.state === "cancelled" || status.state === "failed";
    return finished && status.cancel?.verified === true;
  } catch (error) {
    if (gone(error)) return true;
    throw error;
  }
}
