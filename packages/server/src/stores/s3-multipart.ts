import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type Part,
  type S3Client,
} from "@aws-sdk/client-s3";
import { callS3, errorName, isUploadGone, s3Failure } from "./s3-errors.js";

/**
 * The requests S3Store makes on one key of its bucket, other than writing and reading bytes:
 * listing (every page of) parts and multipart uploads, aborting, and head/delete of the object.
 * A multipart upload or object that is gone is an answer (undefined, no-op), not a failure.
 */
export class S3MultipartRequests {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
  ) {}

  /** All parts of a multipart upload, or undefined when S3 says it does not exist (NoSuchUpload). */
  async listParts(key: string, uploadId: string, signal: AbortSignal): Promise<Part[] | undefined> {
    const parts: Part[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListPartsCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            ...(marker === undefined ? {} : { PartNumberMarker: marker }),
          }),
          { abortSignal: signal },
        );
        parts.push(...(page.Parts ?? []));
        if (!page.IsTruncated || page.NextPartNumberMarker === undefined) return parts;
        marker = page.NextPartNumberMarker;
      }
    } catch (error) {
      if (isUploadGone(error) && !signal.aborted) return undefined;
      throw s3Failure(error, signal, `listing the parts of ${key}`);
    }
  }

  /** The size of part `partNumber` as S3 lists it (ListParts), or undefined when S3 holds no such part. */
  async partSize(
    key: string,
    uploadId: string,
    partNumber: number,
    signal: AbortSignal,
  ): Promise<number | undefined> {
    try {
      const page = await this.client.send(
        new ListPartsCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MaxParts: 1,
          ...(partNumber === 1 ? {} : { PartNumberMarker: String(partNumber - 1) }),
        }),
        { abortSignal: signal },
      );
      const part = page.Parts?.find((p) => p.PartNumber === partNumber);
      return part?.Size;
    } catch (error) {
      if (isUploadGone(error) && !signal.aborted) return undefined;
      throw s3Failure(error, signal, `listing part ${partNumber} of ${key}`);
    }
  }

  /** The upload ids of the multipart uploads in progress at exactly `key` (a prefix listing, filtered). */
  async listUploads(key: string, signal: AbortSignal): Promise<string[]> {
    const found = await this.listUploadsUnder(key, signal);
    return found.filter((upload) => upload.key === key).map((upload) => upload.uploadId);
  }

  /** Every multipart upload in progress under `prefix` (all pages), with when it was started. */
  async listUploadsUnder(
    prefix: string,
    signal: AbortSignal,
  ): Promise<Array<{ key: string; uploadId: string; initiated: number | undefined }>> {
    const found: Array<{ key: string; uploadId: string; initiated: number | undefined }> = [];
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
            ...(idMarker === undefined ? {} : { UploadIdMarker: idMarker }),
          }),
          { abortSignal: signal },
        );
        for (const upload of page.Uploads ?? []) {
          if (upload.Key === undefined || upload.UploadId === undefined) continue;
          found.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated?.getTime() });
        }
        if (!page.IsTruncated) return found;
        keyMarker = page.NextKeyMarker;
        idMarker = page.NextUploadIdMarker;
        if (keyMarker === undefined && idMarker === undefined) return found;
      }
    } catch (error) {
      throw s3Failure(error, signal, `listing the multipart uploads under ${prefix}`);
    }
  }

  /** Every object under `prefix` (all pages of ListObjectsV2). */
  async listObjectsUnder(
    prefix: string,
    signal: AbortSignal,
  ): Promise<Array<{ key: string; size: number; lastModified: number | undefined }>> {
    const found: Array<{ key: string; size: number; lastModified: number | undefined }> = [];
    let token: string | undefined;
    try {
      for (;;) {
        const page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
          { abortSignal: signal },
        );
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined) continue;
          found.push({
            key: object.Key,
            size: object.Size ?? 0,
            lastModified: object.LastModified?.getTime(),
          });
        }
        token = page.NextContinuationToken;
        if (!page.IsTruncated || token === undefined) return found;
      }
    } catch (error) {
      throw s3Failure(error, signal, `listing the objects under ${prefix}`);
    }
  }

  async abort(key: string, uploadId: string, signal: AbortSignal): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
        { abortSignal: signal },
      );
    } catch (error) {
      if (isUploadGone(error) && !signal.aborted) return;
      throw s3Failure(error, signal, `aborting the multipart upload of ${key}`);
    }
  }

  /** The size of the object at `key`, or undefined when there is none. */
  async headObject(key: string, signal: AbortSignal): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), {
        abortSignal: signal,
      });
      return head.ContentLength ?? 0;
    } catch (error) {
      const name = errorName(error);
      if ((name === "NotFound" || name === "NoSuchKey") && !signal.aborted) return undefined;
      throw s3Failure(error, signal, `reading the size of ${key}`);
    }
  }

  async deleteObject(key: string, signal: AbortSignal): Promise<void> {
    await callS3(signal, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal }),
    );
  }
}
