import { CleanupUnverifiedError, UploadCompletedError, VideoNotFoundError } from "@cleancut/core";
import type { ApiClient, UploadRef } from "../http/api-client.js";
import { type RetryPolicy, withRetry } from "../retry.js";
import { type ClientCancelReport, emptyReport } from "./client-cancel-report.js";

/**
 * The person pressed cancel before `done` resolved, but the server had just finished the join
 * (409 upload_completed, with the video id). They never saw a success, so their cancel covers
 * the video too: delete it and check it is gone rather than keep a file nobody asked for.
 * Any other error is rethrown as it was.
 */
export async function deleteRacingVideo(
  api: ApiClient,
  ref: UploadRef,
  requestedAt: string,
  error: unknown,
  retry: RetryPolicy,
  signal: AbortSignal,
): Promise<ClientCancelReport> {
  const videoId = error instanceof UploadCompletedError ? error.details?.videoId : undefined;
  if (typeof videoId !== "string") throw error;
  await withRetry(retry, signal, () => api.deleteVideo(ref, videoId, signal));
  const stillThere = await api.video(videoId, signal).then(
    () => true,
    (lookup: unknown) => !(lookup instanceof VideoNotFoundError),
  );
  if (stillThere)
    throw new CleanupUnverifiedError(`video ${videoId} is still on the server after its delete`);
  return { ...emptyReport(ref.id, requestedAt, "video_deleted"), deletedVideoId: videoId };
}
