import { type CleancutError, type ErrorCode, RejectedByAppError } from "./errors.js";

/**
 * The one table from error code to HTTP status. The server answers with it; the client
 * uses it to decide what is worth retrying (5xx, 408, 429) and what is final (other 4xx).
 * Client-side codes map to 0: they never cross the wire.
 */
export const httpStatusByCode: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_upload_id: 400,
  invalid_video_id: 400,
  invalid_segment_index: 400,
  segment_index_out_of_range: 400,
  invalid_segment_size: 400,
  segment_size_mismatch: 400,
  digest_mismatch: 400,
  body_incomplete: 400,
  upload_too_large: 413,
  payload_too_large: 413,
  unsupported_content_type: 415,
  unauthorized: 401,
  forbidden: 403,
  upload_not_found: 404,
  video_not_found: 404,
  route_not_found: 404,
  upload_cancelled: 410,
  upload_completed: 409,
  upload_busy: 409,
  segments_missing: 409,
  not_a_video: 422,
  range_not_satisfiable: 416,
  rate_limited: 429,
  too_many_open_uploads: 429,
  request_timeout: 408,
  storage_unavailable: 503,
  storage_full: 507,
  unsupported_operation: 501,
  direct_mode_unavailable: 400,
  // tus 1.0 statuses: 412 without a supported version, 409 for a wrong offset, 460 for a bad checksum.
  tus_version_unsupported: 412,
  offset_mismatch: 409,
  checksum_mismatch: 460,
  unsupported_checksum_algorithm: 400,
  concatenation_invalid: 400,
  // The default only: a refusal carries the application's own 4xx (see `httpStatusOf`).
  rejected_by_app: 403,
  authorizer_unavailable: 503,
  invalid_metadata: 400,
  playback_url_invalid: 403,
  playback_url_expired: 403,
  internal_error: 500,
  event_not_found: 404,
  // A server that does not start: there is no response to give it a status.
  invalid_webhook_config: 0,
  network_error: 0,
  aborted: 0,
  cleanup_unverified: 0,
  file_not_found: 0,
  file_mismatch: 0,
};

/**
 * The status an error is answered with: the table's, except for a refusal by the application's
 * authorizer, which passes the application's own 4xx through.
 */
export function httpStatusOf(error: CleancutError): number {
  return error instanceof RejectedByAppError ? error.status : httpStatusByCode[error.code];
}

/** Statuses a client may retry: the server or the path was in trouble, the request itself was fine. */
export function isRetryableStatus(status: number): boolean {
  // 501 says the operation does not exist here: asking again cannot help.
  return status === 408 || status === 429 || (status >= 500 && status !== 501);
}
