import type { Part } from "@aws-sdk/client-s3";
import type { StoredSegment } from "@cleancut/core";
import type { RecordedSegmentsLookup } from "./s3-store-options.js";

interface WrittenPart {
  size: number;
  /** The part's ETag as S3 returns it: the quoted MD5 of its bytes for a plain PUT. */
  etag: string;
  sha256: string;
}

/**
 * Parts this process wrote, by upload id then index: the source of their SHA-256 (S3 keeps
 * only an MD5 ETag per part). An entry is trusted only while S3's listed ETag and size match it.
 */
export class WrittenParts {
  readonly #byUpload = new Map<string, Map<number, WrittenPart>>();

  remember(uploadId: string, index: number, part: WrittenPart): void {
    let parts = this.#byUpload.get(uploadId);
    if (parts === undefined) {
      parts = new Map();
      this.#byUpload.set(uploadId, parts);
    }
    parts.set(index, part);
  }

  forget(uploadId: string): void {
    this.#byUpload.delete(uploadId);
  }

  /**
   * The listed parts that have a trustworthy SHA-256, as segments sorted by index: from the
   * remembered entry when S3's ETag and size match it, else from `recordedSegments` when the
   * size matches.
   */
  async segments(
    uploadId: string,
    parts: readonly Part[],
    recordedSegments: RecordedSegmentsLookup | undefined,
    signal: AbortSignal,
  ): Promise<StoredSegment[]> {
    const written = this.#byUpload.get(uploadId);
    let recorded: Map<number, StoredSegment> | undefined;
    const segments: StoredSegment[] = [];
    for (const part of parts) {
      if (part.PartNumber === undefined || part.Size === undefined) continue;
      const index = part.PartNumber - 1;
      const mine = written?.get(index);
      let sha256: string | undefined;
      if (mine !== undefined && mine.size === part.Size && mine.etag === part.ETag) {
        sha256 = mine.sha256;
      } else if (recordedSegments !== undefined) {
        recorded ??= new Map([...(await recordedSegments(uploadId, signal))].map((s) => [s.index, s]));
        const record = recorded.get(index);
        if (record !== undefined && record.size === part.Size) sha256 = record.sha256;
      }
      // No trustworthy SHA-256: not a segment yet (listRemnants still shows the part).
      if (sha256 !== undefined) segments.push({ index, size: part.Size, sha256 });
    }
    return segments.sort((a, b) => a.index - b.index);
  }
}
