import type { SegmentTally, UploadRecord, UploadStatus } from "@cleancut/core";

export function toUploadStatus(record: UploadRecord, tally: SegmentTally): UploadStatus {
  const status: UploadStatus = {
    id: record.id,
    state: record.state,
    filename: record.filename,
    contentType: record.contentType,
    size: record.size,
    segmentSize: record.segmentSize,
    segmentCount: record.segmentCount,
    receivedSegments: tally.count,
    receivedBytes: tally.bytes,
    createdAt: new Date(record.createdAt).toISOString(),
    expiresAt: new Date(record.expiresAt).toISOString(),
  };
  if (record.videoId !== undefined && record.state === "completed") status.videoId = record.videoId;
  if (record.owner !== undefined) status.owner = record.owner;
  if (record.metadata !== undefined) status.metadata = record.metadata;
  if (record.cancelReport !== undefined) status.cancel = record.cancelReport;
  if (record.errorCode !== undefined) {
    status.error = { code: record.errorCode, message: record.errorMessage ?? record.errorCode };
  }
  return status;
}
