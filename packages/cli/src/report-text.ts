import type { CancelReport, UploadStatus, VideoInfo } from "@cleancut/core";
import { formatBytes } from "./byte-size.js";

/** The cancel report as a person reads it. */
export function describeCancel(report: CancelReport & { outcome?: string }): string {
  if (report.outcome === "nothing_created")
    return "cancelled before the upload was created: nothing was stored";
  if (report.outcome === "already_gone") return `cancelled: the server no longer holds upload ${report.id}`;
  const deleted = `${report.deletedSegments} segment${report.deletedSegments === 1 ? "" : "s"} (${formatBytes(report.deletedBytes)}) deleted`;
  if (report.verified) {
    const cut = report.abortedTransfers > 0 ? `, ${report.abortedTransfers} transfer(s) cut off` : "";
    return `cancelled: ${deleted}${cut}; storage verified empty in ${report.durationMs} ms`;
  }
  const failures = report.failures.map(
    (failure) => `  - ${failure.name}: ${failure.message} (${failure.code})`,
  );
  return [
    `cancel NOT verified yet: ${deleted}, ${report.remaining.length} item(s) still in storage; the server keeps retrying`,
    ...failures,
  ].join("\n");
}

export function describeVideo(video: VideoInfo, endpoint: string): string {
  const probe = video.probe;
  const shape =
    probe.width !== undefined && probe.height !== undefined ? `, ${probe.width}×${probe.height}` : "";
  const duration = probe.durationSeconds !== undefined ? `, ${probe.durationSeconds.toFixed(1)} s` : "";
  return [
    `uploaded ${video.filename}: ${formatBytes(video.size)} (${probe.container}${shape}${duration}${probe.videoCodec ? `, ${probe.videoCodec}` : ""})`,
    `video id  ${video.videoId}`,
    `sha256    ${video.sha256}`,
    `play      ${endpoint.replace(/\/+$/, "")}/v1/videos/${video.videoId}/content`,
  ].join("\n");
}

export function describeStatus(status: UploadStatus): string {
  const lines = [
    `${status.id}  ${status.state}  ${status.filename}`,
    `received ${status.receivedSegments}/${status.segmentCount} segments, ${formatBytes(status.receivedBytes)} of ${formatBytes(status.size)}`,
    `expires  ${status.expiresAt}`,
  ];
  if (status.videoId !== undefined) lines.push(`video    ${status.videoId}`);
  if (status.cancel !== undefined) lines.push(describeCancel(status.cancel));
  if (status.error !== undefined) lines.push(`error    ${status.error.message} (${status.error.code})`);
  return lines.join("\n");
}
