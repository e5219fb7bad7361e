/**
 * Every failure cleancut reports has a class with a stable literal `code`.
 * Codes are the contract (clients switch on them); messages are for people and may change.
 */
export const errorCodes = [
  "invalid_request",
  "invalid_upload_id",
  "invalid_video_id",
  "invalid_segment_index",
  "segment_index_out_of_range",
  "invalid_segment_size",
  "segment_size_mismatch",
  "digest_mismatch",
  "body_incomplete",
  "upload_too_large",
  "payload_too_large",
  "unsupported_content_type",
  "unauthorized",
  "forbidden",
  "upload_not_found",
  "video_not_found",
  "route_not_found",
  "upload_cancelled",
  "upload_completed",
  "upload_busy",
  "segments_missing",
  "not_a_video",
  "range_not_satisfiable",
  "rate_limited",
  "too_many_open_uploads",
  "request_timeout",
  "storage_unavailable",
  "storage_full",
  "unsupported_operation",
  "direct_mode_unavailable",
  "tus_version_unsupported",
  "offset_mismatch",
  "checksum_mismatch",
  "unsupported_checksum_algorithm",
  "concatenation_invalid",
  "rejected_by_app",
  "authorizer_unavailable",
  "invalid_metadata",
  "playback_url_invalid",
  "playback_url_expired",
  "internal_error",
  // Operations (the CLI's webhook commands) and start-up configuration: never sent by the server.
  "event_not_found",
  "invalid_webhook_config",
  // Client-side codes: never sent by the server.
  "network_error",
  "aborted",
  "cleanup_unverified",
  "file_not_found",
  "file_mismatch",
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export interface CleancutErrorOptions {
  cause?: unknown;
  /** Machine-readable facts about the failure (expected vs actual size, the index, ...). */
  details?: Record<string, unknown>;
}

export abstract class CleancutError extends Error {
  abstract readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: CleancutErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export class InvalidRequestError extends CleancutError {
  readonly code = "invalid_request" as const;
  override readonly name = "InvalidRequestError";
}
export class InvalidUploadIdError extends CleancutError {
  readonly code = "invalid_upload_id" as const;
  override readonly name = "InvalidUploadIdError";
}
export class InvalidVideoIdError extends CleancutError {
  readonly code = "invalid_video_id" as const;
  override readonly name = "InvalidVideoIdError";
}
export class InvalidSegmentIndexError extends CleancutError {
  readonly code = "invalid_segment_index" as const;
  override readonly name = "InvalidSegmentIndexError";
}
export class SegmentIndexOutOfRangeError extends CleancutError {
  readonly code = "segment_index_out_of_range" as const;
  override readonly name = "SegmentIndexOutOfRangeError";
}
export class InvalidSegmentSizeError extends CleancutError {
  readonly code = "invalid_segment_size" as const;
  override readonly name = "InvalidSegmentSizeError";
}
export class SegmentSizeMismatchError extends CleancutError {
  readonly code = "segment_size_mismatch" as const;
  override readonly name = "SegmentSizeMismatchError";
}
export class DigestMismatchError extends CleancutError {
  readonly code = "digest_mismatch" as const;
  override readonly name = "DigestMismatchError";
}
export class BodyIncompleteError extends CleancutError {
  readonly code = "body_incomplete" as const;
  override readonly name = "BodyIncompleteError";
}
export class UploadTooLargeError extends CleancutError {
  readonly code = "upload_too_large" as const;
  override readonly name = "UploadTooLargeError";
}
export class PayloadTooLargeError extends CleancutError {
  readonly code = "payload_too_large" as const;
  override readonly name = "PayloadTooLargeError";
}
export class UnsupportedContentTypeError extends CleancutError {
  readonly code = "unsupported_content_type" as const;
  override readonly name = "UnsupportedContentTypeError";
}
export class UnauthorizedError extends CleancutError {
  readonly code = "unauthorized" as const;
  override readonly name = "UnauthorizedError";
}
export class ForbiddenError extends CleancutError {
  readonly code = "forbidden" as const;
  override readonly name = "ForbiddenError";
}
export class UploadNotFoundError extends CleancutError {
  readonly code = "upload_not_found" as const;
  override readonly name = "UploadNotFoundError";
}
export class VideoNotFoundError extends CleancutError {
  readonly code = "video_not_found" as const;
  override readonly name = "VideoNotFoundError";
}
export class RouteNotFoundError extends CleancutError {
  readonly code = "route_not_found" as const;
  override readonly name = "RouteNotFoundError";
}
export class UploadCancelledError extends CleancutError {
  readonly code = "upload_cancelled" as const;
  override readonly name = "UploadCancelledError";
}
export class UploadCompletedError extends CleancutError {
  readonly code = "upload_completed" as const;
  override readonly name = "UploadCompletedError";
}
export class UploadBusyError extends CleancutError {
  readonly code = "upload_busy" as const;
  override readonly name = "UploadBusyError";
}
export class SegmentsMissingError extends CleancutError {
  readonly code = "segments_missing" as const;
  override readonly name = "SegmentsMissingError";
}
export class NotAVideoError extends CleancutError {
  readonly code = "not_a_video" as const;
  override readonly name = "NotAVideoError";
}
export class RangeNotSatisfiableError extends CleancutError {
  readonly code = "range_not_satisfiable" as const;
  override readonly name = "RangeNotSatisfiableError";
}
export class TooManyOpenUploadsError extends CleancutError {
  readonly code = "too_many_open_uploads" as const;
  override readonly name = "TooManyOpenUploadsError";
}
export class RateLimitedError extends CleancutError {
  readonly code = "rate_limited" as const;
  override readonly name = "RateLimitedError";
}
export class RequestTimeoutError extends CleancutError {
  readonly code = "request_timeout" as const;
  override readonly name = "RequestTimeoutError";
}
/** The storage has no room for these bytes (ENOSPC on disk): nothing partial was kept. */
export class StorageFullError extends CleancutError {
  readonly code = "storage_full" as const;
  override readonly name = "StorageFullError";
}
export class StorageUnavailableError extends CleancutError {
  readonly code = "storage_unavailable" as const;
  override readonly name = "StorageUnavailableError";
}
/** The configured store cannot do this (e.g. S3 cannot delete one part of a multipart upload). */
export class UnsupportedOperationError extends CleancutError {
  readonly code = "unsupported_operation" as const;
  override readonly name = "UnsupportedOperationError";
}
/** `mode: "direct"` was asked of a server whose store cannot presign segment uploads (the disk store). */
export class DirectModeUnavailableError extends CleancutError {
  readonly code = "direct_mode_unavailable" as const;
  override readonly name = "DirectModeUnavailableError";
}
/** tus: the request's `Tus-Resumable` is not a version this server speaks (1.0.0). */
export class TusVersionUnsupportedError extends CleancutError {
  readonly code = "tus_version_unsupported" as const;
  override readonly name = "TusVersionUnsupportedError";
}
/** tus: the PATCH's `Upload-Offset` is not where the upload stands (HEAD says where). */
export class OffsetMismatchError extends CleancutError {
  readonly code = "offset_mismatch" as const;
  override readonly name = "OffsetMismatchError";
}
/** tus: the PATCH body does not hash to its `Upload-Checksum`; none of its bytes were kept. */
export class ChecksumMismatchError extends CleancutError {
  readonly code = "checksum_mismatch" as const;
  override readonly name = "ChecksumMismatchError";
}
/** tus: `Upload-Checksum` names an algorithm other than sha1 or sha256. */
export class UnsupportedChecksumAlgorithmError extends CleancutError {
  readonly code = "unsupported_checksum_algorithm" as const;
  override readonly name = "UnsupportedChecksumAlgorithmError";
}
/** tus: an `Upload-Concat: final` names uploads that are not finished partial uploads of this server. */
export class ConcatenationInvalidError extends CleancutError {
  readonly code = "concatenation_invalid" as const;
  override readonly name = "ConcatenationInvalidError";
}
/**
 * The application's authorizer refused to let this upload be created. The answer carries the
 * application's own 4xx status and message (`status`), so its caller learns why.
 */
export class RejectedByAppError extends CleancutError {
  readonly code = "rejected_by_app" as const;
  override readonly name = "RejectedByAppError";
  /** The application's status, passed through (403 when rebuilt from the wire without one). */
  readonly status: number;

  constructor(message: string, options: CleancutErrorOptions & { status?: number } = {}) {
    super(message, options);
    this.status = options.status ?? 403;
  }
}
/** The application's authorizer did not answer in time, could not be reached, or failed (5xx). */
export class AuthorizerUnavailableError extends CleancutError {
  readonly code = "authorizer_unavailable" as const;
  override readonly name = "AuthorizerUnavailableError";
}
/** An upload's `metadata` is not an object of strings within the limits (keys 1–64 characters, 4 KiB as JSON). */
export class InvalidMetadataError extends CleancutError {
  readonly code = "invalid_metadata" as const;
  override readonly name = "InvalidMetadataError";
}
/** A playback URL whose signature does not match its video and expiry (tampered, or from another key). */
export class PlaybackUrlInvalidError extends CleancutError {
  readonly code = "playback_url_invalid" as const;
  override readonly name = "PlaybackUrlInvalidError";
}
/** A genuine playback URL past its `expires`: the application mints a new one. */
export class PlaybackUrlExpiredError extends CleancutError {
  readonly code = "playback_url_expired" as const;
  override readonly name = "PlaybackUrlExpiredError";
}
export class InternalError extends CleancutError {
  readonly code = "internal_error" as const;
  override readonly name = "InternalError";
}
/** `cleancut webhooks replay`: no event has this id in the outbox. */
export class EventNotFoundError extends CleancutError {
  readonly code = "event_not_found" as const;
  override readonly name = "EventNotFoundError";
}
/** A webhook URL that is not http(s), URLs without a secret, or a secret not in `whsec_<base64>` form. */
export class InvalidWebhookConfigError extends CleancutError {
  readonly code = "invalid_webhook_config" as const;
  override readonly name = "InvalidWebhookConfigError";
}
export class NetworkError extends CleancutError {
  readonly code = "network_error" as const;
  override readonly name = "NetworkError";
}
export class AbortedError extends CleancutError {
  readonly code = "aborted" as const;
  override readonly name = "AbortedError";
}
export class CleanupUnverifiedError extends CleancutError {
  readonly code = "cleanup_unverified" as const;
  override readonly name = "CleanupUnverifiedError";
}
export class FileNotFoundError extends CleancutError {
  readonly code = "file_not_found" as const;
  override readonly name = "FileNotFoundError";
}
/**
 * The file given for an existing upload (one an application's backend created, or one being
 * resumed) is not the file that upload was declared for: its size differs. Nothing was sent.
 */
export class FileMismatchError extends CleancutError {
  readonly code = "file_mismatch" as const;
  override readonly name = "FileMismatchError";
}

type ErrorClass = new (message: string, options?: CleancutErrorOptions) => CleancutError;

/** One class per code, so a client can turn `{error:{code}}` from the wire back into the same class. */
const errorClassByCode: Record<ErrorCode, ErrorClass> = {
  invalid_request: InvalidRequestError,
  invalid_upload_id: InvalidUploadIdError,
  invalid_video_id: InvalidVideoIdError,
  invalid_segment_index: InvalidSegmentIndexError,
  segment_index_out_of_range: SegmentIndexOutOfRangeError,
  invalid_segment_size: InvalidSegmentSizeError,
  segment_size_mismatch: SegmentSizeMismatchError,
  digest_mismatch: DigestMismatchError,
  body_incomplete: BodyIncompleteError,
  upload_too_large: UploadTooLargeError,
  payload_too_large: PayloadTooLargeError,
  unsupported_content_type: UnsupportedContentTypeError,
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  upload_not_found: UploadNotFoundError,
  video_not_found: VideoNotFoundError,
  route_not_found: RouteNotFoundError,
  upload_cancelled: UploadCancelledError,
  upload_completed: UploadCompletedError,
  upload_busy: UploadBusyError,
  segments_missing: SegmentsMissingError,
  not_a_video: NotAVideoError,
  range_not_satisfiable: RangeNotSatisfiableError,
  rate_limited: RateLimitedError,
  too_many_open_uploads: TooManyOpenUploadsError,
  request_timeout: RequestTimeoutError,
  storage_unavailable: StorageUnavailableError,
  storage_full: StorageFullError,
  unsupported_operation: UnsupportedOperationError,
  direct_mode_unavailable: DirectModeUnavailableError,
  tus_version_unsupported: TusVersionUnsupportedError,
  offset_mismatch: OffsetMismatchError,
  checksum_mismatch: ChecksumMismatchError,
  unsupported_checksum_algorithm: UnsupportedChecksumAlgorithmError,
  concatenation_invalid: ConcatenationInvalidError,
  rejected_by_app: RejectedByAppError,
  authorizer_unavailable: AuthorizerUnavailableError,
  invalid_metadata: InvalidMetadataError,
  playback_url_invalid: PlaybackUrlInvalidError,
  playback_url_expired: PlaybackUrlExpiredError,
  internal_error: InternalError,
  event_not_found: EventNotFoundError,
  invalid_webhook_config: InvalidWebhookConfigError,
  network_error: NetworkError,
  aborted: AbortedError,
  cleanup_unverified: CleanupUnverifiedError,
  file_not_found: FileNotFoundError,
  file_mismatch: FileMismatchError,
};

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(errorClassByCode, value);
}

/** Rebuilds a typed error from its wire form; unknown codes become `InternalError`. */
export function errorFromCode(code: string, message: string, options?: CleancutErrorOptions): CleancutError {
  const ErrorType = isErrorCode(code) ? errorClassByCode[code] : InternalError;
  return new ErrorType(message, options);
}

export function isCleancutError(value: unknown): value is CleancutError {
  return value instanceof CleancutError;
}
