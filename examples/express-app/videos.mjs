/**
 * The app's own "my videos" table (in memory). cleancut's signed webhooks keep it in step: a
 * row appears when the app creates an upload, turns into a playable video on
 * `upload.completed`, and goes away on `upload.cancelled` (or expired, failed), leaving a note
 * with cleancut's verified report so the user sees that nothing of it is left.
 */
export class Videos {
  /** uploadId -> { uploadId, owner, title, filename, size, state, videoId? } */
  #rows = new Map();
  /** owner -> notes about uploads that ended without a video, newest first */
  #notes = new Map();
  /** webhook-ids already applied: Standard Webhooks may deliver one message more than once. */
  #seen = new Set();

  /** The app created an upload for `owner` (server-to-server): show it as uploading. */
  addUpload({ uploadId, owner, title, filename, size }) {
    this.#rows.set(uploadId, { uploadId, owner, title, filename, size, state: "uploading" });
  }

  /** Applies one verified webhook; a message seen before is ignored. */
  apply(event) {
    if (this.#seen.has(event.id)) return;
    this.#seen.add(event.id);
    const { uploadId, owner, metadata } = event.data;
    // The event carries owner and metadata itself: the table can be rebuilt from webhooks alone.
    const row = this.#rows.get(uploadId) ?? {
      uploadId,
      owner,
      title: metadata?.title ?? "",
      state: "uploading",
    };
    switch (event.type) {
      case "upload.completed":
        this.#rows.set(uploadId, {
          ...row,
          state: "completed",
          videoId: event.data.videoId,
          size: event.data.size,
        });
        break;
      case "upload.cancel_pending":
        this.#rows.set(uploadId, { ...row, state: "cancelling" });
        break;
      case "upload.cancelled":
      case "upload.expired":
      case "upload.failed":
        this.#rows.delete(uploadId);
        this.#note(row, event);
        break;
      case "video.deleted":
        this.#rows.delete(uploadId);
        break;
    }
  }

  /** What `owner` sees: their videos and uploads, and how their cancelled uploads ended. */
  listFor(owner) {
    return {
      videos: [...this.#rows.values()].filter((row) => row.owner === owner),
      notes: this.#notes.get(owner) ?? [],
    };
  }

  #note(row, event) {
    if (row.owner === undefined) return;
    const report = event.data.report;
    const note = {
      uploadId: row.uploadId,
      title: row.title,
      type: event.type,
      deletedSegments: report?.deletedSegments ?? 0,
      deletedBytes: report?.deletedBytes ?? 0,
      verified: report?.verified === true,
      at: event.timestamp,
    };
    this.#notes.set(row.owner, [note, ...(this.#notes.get(row.owner) ?? [])].slice(0, 20));
  }
}
