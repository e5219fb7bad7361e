import {
  InternalError,
  isCleancutError,
  NotAVideoError,
  type SegmentStore,
  SegmentsMissingError,
  UploadBusyError,
  UploadCancelledError,
  UploadNotFoundError,
  type UploadRecord,
  type UploadRepository,
  type VideoInfo,
  type VideoStore,
} from "@cleancut/core";
import type { Logger } from "pino";
import type { CancelService } from "../cancel/cancel-service.js";
import type { InflightRegistry } from "../cancel/inflight-registry.js";
import { type PurgeOptions, purgeCompletedUpload } from "../cancel/purge.js";
import { newId } from "../ids.js";
import { neverAborts } from "../never-aborts.js";
import { inspectVideo } from "./inspect-video.js";

export interface CompleteServiceDeps {
  repository: UploadRepository;
  store: SegmentStore;
  videos: VideoStore;
  inflight: InflightRegistry;
  cancels: CancelService;
  log: Logger;
  purge: PurgeOptions;
  ffprobeCommand: string | undefined;
}

/**
 * Joins the segments into the video, checks it is one, and only then drops the segments.
 * The whole join runs as an in-flight operation of the upload, so a cancel that arrives
 * meanwhile aborts it and wins; a file that is not a video is cleaned up like a cancel.
 */
export class CompleteService {
  constructor(private readonly deps: CompleteServiceDeps) {}

  async complete(record: UploadRecord, signal: AbortSignal): Promise<VideoInfo> {
    const { repository, store } = this.deps;
    const existing = await this.#settled(record, signal);
    if (existing !== undefined) return existing;

    const handle = { id: record.id, storageRef: record.storageRef };
    const segments = await store.listSegments(handle, signal);
    const byIndex = new Map(segments.map((segment) => [segment.index, segment]));
    const missing: number[] = [];
    for (let index = 0; index < record.segmentCount; index++) {
      if (!byIndex.has(index)) missing.push(index);
    }
    if (missing.length > 0) {
      throw new SegmentsMissingError(
        `${missing.length} of ${record.segmentCount} segments are not uploaded yet`,
        {
          details: { missing: missing.slice(0, 100), missingCount: missing.length },
        },
      );
    }

    const videoId = newId();
    const claimed = await repository.transition(record.id, ["uploading"], "completing", { videoId }, signal);
    if (claimed === undefined) {
      const current = await repository.getUpload(record.id, signal);
      if (current === undefined) throw new UploadNotFoundError(`upload ${record.id} does not exist`);
      const settled = await this.#settled(current, signal);
      if (settled !== undefined) return settled;
      throw new UploadBusyError(`upload ${record.id} is ${current.state}`);
    }

    const ordered = [...byIndex.values()].filter((segment) => segment.index < record.segmentCount);
    try {
      return await this.deps.inflight.run(record.id, undefined, (opSignal) =>
        this.#assembleAndCommit(claimed, ordered, videoId, opSignal),
      );
    } catch (error) {
      if (error instanceof NotAVideoError) {
        // Same verified cleanup as a cancel; the upload ends `failed` with its report.
        await this.deps.cancels.resumeCleanup(record.id);
      }
      throw error;
    }
  }

  /** The answer for an upload that is already past `uploading`, or undefined if it is not. */
  async #settled(record: UploadRecord, signal: AbortSignal): Promise<VideoInfo | undefined> {
    switch (record.state) {
      case "uploading":
        return undefined;
      case "completed": {
        const video =
          record.videoId === undefined
            ? undefined
            : await this.deps.repository.getVideo(record.videoId, signal);
        if (video === undefined)
          throw new InternalError(`upload ${record.id} is completed but its video is missing`);
        const { storageKey: _key, ...info } = video;
        return info;
      }
      case "completing":
        throw new UploadBusyError(`upload ${record.id} is already being completed`);
      case "failed":
        throw new NotAVideoError(record.errorMessage ?? `upload ${record.id} failed`);
      case "cancelling":
      case "cancelled":
        throw new UploadCancelledError(`upload ${record.id} was cancelled`);
    }
  }

  async #assembleAndCommit(
    record: UploadRecord,
    segments: Parameters<SegmentStore["assemble"]>[1],
    videoId: string,
    signal: AbortSignal,
  ): Promise<VideoInfo> {
    const { repository, store, videos, log } = this.deps;
    const handle = { id: record.id, storageRef: record.storageRef };
    let assembled: Awaited<ReturnType<SegmentStore["assemble"]>> | undefined;
    let committed = false;
    try {
      assembled = await store.assemble(handle, segments, videoId, signal);
      const probe = await inspectVideo(videos, assembled, this.deps.ffprobeCommand, signal);
      const info: VideoInfo = {
        videoId,
        uploadId: record.id,
        filename: record.filename,
        contentType: record.contentType,
        size: assembled.size,
        sha256: assembled.sha256,
        createdAt: new Date().toISOString(),
        probe,
      };
      await repository.createVideo({ ...info, storageKey: assembled.key }, signal);
      const completed = await repository.transition(record.id, ["completing"], "completed", {}, signal, {
        type: "upload.completed",
        data: { videoId, size: info.size, sha256: info.sha256, probe },
      });
      if (completed === undefined)
        throw new UploadCancelledError(`upload ${record.id} was cancelled while completing`);
      committed = true;
      // The video is safe: what storage holds besides it goes, verified, and at the same time
      // the segment records (that purge lists no segment, so it never reads them).
      const [purge, forgotten] = await Promise.allSettled([
        purgeCompletedUpload(store, handle, this.deps.purge, neverAborts),
        repository.forgetAllSegments(record.id, neverAborts),
      ]);
      if (
        purge.status === "rejected" ||
        purge.value.remnants === undefined ||
        purge.value.remnants.length > 0 ||
        purge.value.failures.length > 0
      ) {
        log.warn(
          {
            uploadId: record.id,
            ...(purge.status === "rejected"
              ? { err: purge.reason }
              : { failures: purge.value.failures, remnants: purge.value.remnants }),
          },
          "segments of a completed upload were not all removed",
        );
      }
      if (forgotten.status === "rejected") {
        log.warn(
          { uploadId: record.id, err: forgotten.reason },
          "segment records of a completed upload were kept",
        );
      }
      log.info({ uploadId: record.id, videoId, size: info.size }, "upload completed");
      return info;
    } catch (error) {
      // Completed: the video is the upload's now, whatever failed after.
      if (committed) throw error;
      if (assembled !== undefined) {
        await videos.deleteVideo(assembled.key, neverAborts);
        await repository.deleteVideo(videoId, neverAborts);
      }
      if (error instanceof NotAVideoError) {
        await repository.transition(
          record.id,
          ["completing"],
          "cancelling",
          {
            cancelReason: "not_a_video",
            errorCode: error.code,
            errorMessage: error.message,
            nextCleanupAt: this.deps.cancels.attemptDueAt(),
          },
          neverAborts,
        );
      } else if (!(isCleancutError(error) && error.code === "upload_cancelled")) {
        // A storage hiccup: give the upload back so the client can try `complete` again.
        await repository.transition(record.id, ["completing"], "uploading", {}, neverAborts);
      }
      throw error;
    }
  }
}
