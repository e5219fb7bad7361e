// Browser-safe entry: nothing reachable from here may import `node:` modules.
export {
  type CancelProgress,
  type ClientCancelReport,
  emptyReport,
} from "./cancel/client-cancel-report.js";
export { type ConfirmCancelOptions, confirmCancel } from "./cancel/confirm-cancel.js";
export { type ResumeCancelsOptions, type ResumedCancel, resumeCancels } from "./cancel/resume-cancels.js";
export { createUpload, createUploadWith } from "./create-upload.js";
export { contentDigest, type Sha256Function, sha256 } from "./digest.js";
export { ApiClient, errorFromResponse, type UploadRef } from "./http/api-client.js";
export { CountingTransport } from "./http/counting-transport.js";
export { FetchTransport } from "./http/fetch-transport.js";
export type { HttpRequest, HttpResponse, HttpTransport } from "./http/transport.js";
export { XhrTransport } from "./http/xhr-transport.js";
export { type CancelJournal, type JournalEntry, MemoryJournal } from "./journal/cancel-journal.js";
export { IndexedDbJournal, IndexedDbUploadSessions, type UploadSession } from "./journal/indexeddb.js";
export { backoffDelay, defaultRetryPolicy, isRetryable, type RetryPolicy } from "./retry.js";
export { BlobSource } from "./source/blob-source.js";
export type { UploadSource } from "./source/upload-source.js";
export type { SegmentProgress, UploadEvents, UploadPhase, UploadProgress } from "./upload/events.js";
export type { UploadOptions } from "./upload/options.js";
export { Upload } from "./upload/upload.js";
