import { type CancelReport, UploadCompletedError, type UploadRecord } from "@cleancut/core";
import { neverAborts } from "../never-aborts.js";
import type { AppContext } from "./context.js";

/**
 * Ends an upload for good: while it is open, cleancut's cancel (its report: verified, or
 * what is left and being retried); once it completed, its video is deleted (no report). An
 * upload that completes while the cancel starts is caught here too, so a termination never
 * leaves a video behind.
 */
export async function terminateUpload(
  ctx: AppContext,
  record: Pick<UploadRecord, "id" | "state" | "videoId">,
): Promise<CancelReport | undefined> {
  let videoId = record.videoId;
  if (record.state !== "completed") {
    try {
      return await ctx.cancels.cancel(record.id, "client");
    } catch (error) {
      if (!(error instanceof UploadCompletedError)) throw error;
      videoId = (await ctx.repository.getUpload(record.id, neverAborts))?.videoId;
    }
  }
  // Not tied to a request: a half-done delete would leave the video without its record.
  if (videoId === undefined) return undefined;
  const video = await ctx.repository.getVideo(videoId, neverAborts);
  if (video !== undefined) {
    await ctx.videos.deleteVideo(video.storageKey, neverAborts);
    await ctx.repository.deleteVideo(video.videoId, neverAborts, {
      type: "video.deleted",
      data: { videoId: video.videoId },
    });
  }
  return undefined;
}
