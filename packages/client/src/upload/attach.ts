import {
  FileMismatchError,
  type SegmentLayout,
  segmentLayout,
  UploadCancelledError,
  UploadCompletedError,
} from "@cleancut/core";
import type { ApiClient, UploadRef } from "../http/api-client.js";
import { withRetry } from "../retry.js";
import type { UploadSource } from "../source/upload-source.js";
import type { ResolvedOptions } from "./options.js";

export interface CreatedUpload {
  ref: UploadRef;
  layout: SegmentLayout;
  /** True when the upload existed before this client (`upload`/`resumeFrom`): its segments must be listed first. */
  resumed: boolean;
}

/**
 * Creates the upload on the server, or attaches to an existing one (an app-issued upload, or one
 * being resumed) after checking the source is the file it was declared for and it still takes
 * segments. Both checks come before any byte is sent.
 */
export async function createOrAttach(
  api: ApiClient,
  source: UploadSource,
  options: ResolvedOptions,
  signal: AbortSignal,
): Promise<CreatedUpload> {
  const existing = options.attachTo;
  if (existing !== undefined) {
    const status = await withRetry(options.retry, signal, () => api.status(existing, signal));
    if (status.size !== source.size) {
      throw new FileMismatchError(
        `upload ${existing.id} is for ${status.filename} (${status.size} bytes) but ${source.name} is ${source.size} bytes: not the same file`,
        {
          details: {
            uploadId: existing.id,
            expected: { filename: status.filename, size: status.size },
            actual: { name: source.name, size: source.size },
          },
        },
      );
    }
    if (status.state === "completing" || status.state === "completed") {
      throw new UploadCompletedError(`upload ${existing.id} is already ${status.state}`);
    }
    if (status.state !== "uploading") {
      throw new UploadCancelledError(`upload ${existing.id} is ${status.state}; it takes no more segments`);
    }
    return { ref: existing, layout: segmentLayout(status.size, status.segmentSize), resumed: true };
  }
  const body = {
    filename: source.name,
    size: source.size,
    contentType: source.type,
    ...(options.segmentSize === undefined ? {} : { segmentSize: options.segmentSize }),
    // Only sent when asked for: a proxy upload's request stays what older servers know.
    ...(options.mode === "direct" ? { mode: options.mode } : {}),
  };
  const created = await withRetry(options.retry, signal, () =>
    api.createUpload(body, options.apiKey, signal),
  );
  return {
    ref: { id: created.id, token: created.token },
    layout: segmentLayout(source.size, created.segmentSize),
    resumed: false,
  };
}
