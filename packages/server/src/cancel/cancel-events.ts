import type { CancelReport, EventDraft, UploadRecord } from "@cleancut/core";

/**
 * What the application is told when a cleanup ends or has to wait. A tus partial upload is a
 * piece of another upload: its creation was not announced, nor is its end.
 */
function announced(record: UploadRecord): boolean {
  return record.tus?.concat?.kind !== "partial" && record.cancelReason !== "concatenated";
}

/** The event of a verified cleanup, by why it ran: a video refused, an expiry, or a cancel. */
export function endedEvent(record: UploadRecord, report: CancelReport): EventDraft | undefined {
  if (!announced(record)) return undefined;
  if (record.cancelReason === "not_a_video") {
    return {
      type: "upload.failed",
      data: {
        code: record.errorCode ?? "not_a_video",
        message: record.errorMessage ?? "the file is not a video",
        report,
      },
    };
  }
  if (record.cancelReason === "expired") return { type: "upload.expired", data: { report } };
  return { type: "upload.cancelled", data: { report } };
}

/**
 * `upload.cancel_pending` after the first attempt that could not verify (the 202): once per
 * cancel, not at every retry. `record` is as the attempt read it, so its stored report still
 * counts the attempts before this one.
 */
export function pendingEvent(record: UploadRecord, report: CancelReport): EventDraft | undefined {
  if (!announced(record) || (record.cancelReport?.attempts ?? 0) > 0) return undefined;
  return { type: "upload.cancel_pending", data: { report } };
}
