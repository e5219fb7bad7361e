import type { StoredEntry } from "@cleancut/core";
import { isValidId } from "../ids.js";
import type { S3MultipartRequests } from "./s3-multipart.js";
import { partialSegmentOwner } from "./s3-partial-segment.js";

/**
 * ListMultipartUploads and ListObjectsV2 under the key prefix (every page): one `segments`
 * entry per multipart upload (its parts summed with ListParts; `storageRef` is its UploadId)
 * and one `video` entry per object, or a `temp` entry for a partial segment's object. All
 * are filed under the upload id the key names.
 */
export async function listS3StoredEntries(
  requests: S3MultipartRequests,
  prefix: string,
  signal: AbortSignal,
): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  const ownerOf = (key: string) => {
    const id = key.slice(prefix.length);
    return key.startsWith(prefix) && isValidId(id) ? id : undefined;
  };
  for (const upload of await requests.listUploadsUnder(prefix, signal)) {
    const ownerId = ownerOf(upload.key);
    if (ownerId === undefined) continue;
    const parts = await requests.listParts(upload.key, upload.uploadId, signal);
    // Gone between the two listings (aborted or completed meanwhile): nothing to report.
    if (parts === undefined) continue;
    const lastPart = Math.max(0, ...parts.map((part) => part.LastModified?.getTime() ?? 0));
    entries.push({
      ownerId,
      owner: "upload",
      kind: "segments",
      bytes: parts.reduce((sum, part) => sum + (part.Size ?? 0), 0),
      name: `${upload.key} multipart upload ${upload.uploadId} (${parts.length} parts)`,
      modifiedAt: Math.max(upload.initiated ?? 0, lastPart),
      storageRef: upload.uploadId,
    });
  }
  for (const object of await requests.listObjectsUnder(prefix, signal)) {
    const partialOwner = partialSegmentOwner(prefix, object.key);
    if (partialOwner !== undefined) {
      entries.push({
        ownerId: partialOwner,
        owner: "upload",
        kind: "temp",
        bytes: object.size,
        name: object.key,
        modifiedAt: object.lastModified ?? 0,
      });
      continue;
    }
    const ownerId = ownerOf(object.key);
    if (ownerId === undefined) continue;
    entries.push({
      ownerId,
      owner: "upload",
      kind: "video",
      bytes: object.size,
      name: object.key,
      modifiedAt: object.lastModified ?? 0,
      videoKey: object.key,
    });
  }
  return entries;
}
