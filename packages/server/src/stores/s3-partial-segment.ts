import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { type PartialSegment, StorageUnavailableError } from "@cleancut/core";
import { isValidId } from "../ids.js";
import { callS3, errorName, s3Failure } from "./s3-errors.js";

/**
 * An upload's partial segment (see `SegmentStore.savePartialSegment`) as one plain object at
 * `<keyPrefix>partial/<uploadId>`, its index in the object's metadata. Not at the upload's own
 * key: that is where its multipart upload completes into the video. PutObject replaces the
 * object whole, so a reader gets the old bytes or the new ones.
 */
const folder = "partial/";
const indexMetadata = "segment-index";

export function partialSegmentKey(keyPrefix: string, uploadId: string): string {
  return `${keyPrefix}${folder}${uploadId}`;
}

/** The upload id a key under `keyPrefix` names as a partial segment's, or undefined when it is none. */
export function partialSegmentOwner(keyPrefix: string, key: string): string | undefined {
  const start = `${keyPrefix}${folder}`;
  if (!key.startsWith(start)) return undefined;
  const id = key.slice(start.length);
  return isValidId(id) ? id : undefined;
}

export async function putPartialSegment(
  client: S3Client,
  object: { bucket: string; key: string },
  index: number,
  bytes: Uint8Array,
  signal: AbortSignal,
): Promise<void> {
  signal.throwIfAborted();
  await callS3(signal, () =>
    client.send(
      new PutObjectCommand({
        Bucket: object.bucket,
        Key: object.key,
        Body: bytes,
        ContentLength: bytes.length,
        Metadata: { [indexMetadata]: String(index) },
      }),
      { abortSignal: signal },
    ),
  );
}

export async function getPartialSegment(
  client: S3Client,
  object: { bucket: string; key: string },
  signal: AbortSignal,
): Promise<PartialSegment | undefined> {
  signal.throwIfAborted();
  try {
    const response = await client.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }), {
      abortSignal: signal,
    });
    const index = Number(response.Metadata?.[indexMetadata]);
    if (response.Body === undefined || !Number.isInteger(index) || index < 0) {
      throw new StorageUnavailableError(`the partial segment ${object.key} has no body or no segment index`);
    }
    return { index, bytes: await response.Body.transformToByteArray() };
  } catch (error) {
    const name = errorName(error);
    if ((name === "NoSuchKey" || name === "NotFound") && !signal.aborted) return undefined;
    throw s3Failure(error, signal, `reading the partial segment ${object.key}`);
  }
}
