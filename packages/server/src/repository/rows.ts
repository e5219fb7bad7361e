import type {
  CancelReason,
  CancelReport,
  TusUploadFacts,
  UploadMetadata,
  UploadPatch,
  UploadRecord,
  UploadState,
  VideoInfo,
} from "@cleancut/core";

/** The row shape shared by the SQL repositories, and its mapping to and from records. */
export interface UploadRow {
  id: string;
  token_hash: string;
  filename: string;
  content_type: string;
  size: number | string;
  segment_size: number | string;
  segment_count: number;
  state: string;
  storage_ref: string;
  created_at: number | string;
  expires_at: number | string;
  updated_at: number | string;
  video_id: string | null;
  cancel_reason: string | null;
  cancel_report: string | null;
  next_cleanup_at: number | string | null;
  error_code: string | null;
  error_message: string | null;
  /** Added by migration 3 (as `owner`, renamed by migration 5). */
  creator?: string | null;
  /** Added by migration 5: the application's user, and its metadata (JSON). */
  owner?: string | null;
  metadata?: string | null;
  /** Added by migration 4 (JSON); absent in rows of older servers. */
  tus?: string | null;
}

export interface VideoRow {
  id: string;
  upload_id: string;
  filename: string;
  content_type: string;
  size: number | string;
  sha256: string;
  storage_key: string;
  probe: string;
  created_at: number | string;
}

export function rowToUpload(row: UploadRow): UploadRecord {
  const record: UploadRecord = {
    id: row.id,
    tokenHash: row.token_hash,
    filename: row.filename,
    contentType: row.content_type,
    size: Number(row.size),
    segmentSize: Number(row.segment_size),
    segmentCount: row.segment_count,
    state: row.state as UploadState,
    storageRef: row.storage_ref,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    updatedAt: Number(row.updated_at),
  };
  if (row.video_id !== null) record.videoId = row.video_id;
  if (row.cancel_reason !== null) record.cancelReason = row.cancel_reason as CancelReason;
  if (row.cancel_report !== null) record.cancelReport = JSON.parse(row.cancel_report) as CancelReport;
  if (row.next_cleanup_at !== null) record.nextCleanupAt = Number(row.next_cleanup_at);
  if (row.error_code !== null) record.errorCode = row.error_code;
  if (row.error_message !== null) record.errorMessage = row.error_message;
  if (row.creator !== null && row.creator !== undefined) record.creator = row.creator;
  if (row.owner !== null && row.owner !== undefined) record.owner = row.owner;
  if (row.metadata !== null && row.metadata !== undefined) {
    record.metadata = JSON.parse(row.metadata) as UploadMetadata;
  }
  if (row.tus !== null && row.tus !== undefined) record.tus = JSON.parse(row.tus) as TusUploadFacts;
  return record;
}

const patchColumns: Record<keyof UploadPatch, string> = {
  videoId: "video_id",
  cancelReason: "cancel_reason",
  cancelReport: "cancel_report",
  nextCleanupAt: "next_cleanup_at",
  errorCode: "error_code",
  errorMessage: "error_message",
  storageRef: "storage_ref",
  expiresAt: "expires_at",
  tus: "tus",
};

/** Column/value pairs for a patch; `undefined` fields are left alone, `null`-like clears are not needed. */
export function patchToColumns(patch: UploadPatch): Array<[string, unknown]> {
  const columns: Array<[string, unknown]> = [];
  for (const [key, column] of Object.entries(patchColumns) as Array<[keyof UploadPatch, string]>) {
    const value = patch[key];
    if (value === undefined) continue;
    columns.push([column, key === "cancelReport" || key === "tus" ? JSON.stringify(value) : value]);
  }
  return columns;
}

export function rowToVideo(row: VideoRow): VideoInfo & { storageKey: string } {
  return {
    videoId: row.id,
    uploadId: row.upload_id,
    filename: row.filename,
    contentType: row.content_type,
    size: Number(row.size),
    sha256: row.sha256,
    storageKey: row.storage_key,
    probe: JSON.parse(row.probe) as VideoInfo["probe"],
    createdAt: new Date(Number(row.created_at)).toISOString(),
  };
}
