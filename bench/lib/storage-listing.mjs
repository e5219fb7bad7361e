// What a store holds, listed from the store itself (never from a system's own records): the
// benchmarks count leftovers with these, for every system alike.
import { readdir, stat } from "node:fs/promises";
import { join, relative } from "node:path";
import { ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand } from "@aws-sdk/client-s3";

/**
 * Every file under `root`, recursively, with its size (`name` relative to `root`), and every
 * folder (relative names). A missing `root` holds nothing.
 */
export async function listTree(root) {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch((error) => {
    if (error.code === "ENOENT") return [];
    throw error;
  });
  const files = [];
  const dirs = [];
  for (const entry of entries) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    if (entry.isDirectory()) dirs.push(relative(root, path));
    else if (entry.isFile()) {
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined) files.push({ path, name: relative(root, path), bytes: info.size });
    }
  }
  return { files, dirs };
}

/**
 * The objects and unfinished multipart uploads under `prefix` (every page), each upload with
 * its parts counted and summed. An upload listed and gone before its parts were (a racing
 * abort or complete) is not a leftover.
 */
export async function bucketContents(client, bucket, prefix) {
  const objects = [];
  let ContinuationToken;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }),
    );
    for (const object of page.Contents ?? []) objects.push({ key: object.Key, bytes: object.Size ?? 0 });
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);

  const uploads = [];
  let KeyMarker;
  let UploadIdMarker;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker, UploadIdMarker }),
    );
    for (const upload of page.Uploads ?? []) uploads.push({ key: upload.Key, uploadId: upload.UploadId });
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    UploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (KeyMarker);
  for (const upload of uploads) {
    upload.bytes = 0;
    upload.parts = 0;
    let PartNumberMarker;
    do {
      const page = await client
        .send(
          new ListPartsCommand({
            Bucket: bucket,
            Key: upload.key,
            UploadId: upload.uploadId,
            PartNumberMarker,
          }),
        )
        .catch((error) => {
          if (error.name === "NoSuchUpload") return undefined;
          throw error;
        });
      if (!page) {
        upload.gone = true;
        break;
      }
      for (const part of page.Parts ?? []) {
        upload.bytes += part.Size ?? 0;
        upload.parts++;
      }
      PartNumberMarker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (PartNumberMarker);
  }
  return { objects, uploads: uploads.filter((upload) => !upload.gone) };
}

/** `bucketContents` as a system's leftovers: items, bytes, the first names. */
export function bucketLeftovers({ objects, uploads }) {
  return {
    items: objects.length + uploads.length,
    bytes: [...objects, ...uploads].reduce((sum, item) => sum + item.bytes, 0),
    names: [
      ...objects.map((object) => `${object.key} (${object.bytes} B)`),
      ...uploads.map(
        (upload) => `${upload.key} (unfinished multipart upload, ${upload.parts} parts, ${upload.bytes} B)`,
      ),
    ].slice(0, 20),
  };
}
