import type { UploadRecord } from "@cleancut/core";
import type { AppContext } from "../http/context.js";

/**
 * A tus upload has no "complete" call: the byte that reaches Upload-Length completes it. A
 * plain upload is then joined and checked like `POST /v1/uploads/{id}/complete` (a file that
 * is not a video is refused, 422, and removed); a partial upload waits for its final.
 */
export async function finishIfComplete(
  ctx: AppContext,
  record: UploadRecord,
  signal: AbortSignal,
): Promise<UploadRecord> {
  if (record.tus?.concat?.kind === "partial" || record.state !== "uploading") return record;
  await ctx.completes.complete(record, signal);
  return (await ctx.repository.getUpload(record.id, signal)) ?? record;
}
