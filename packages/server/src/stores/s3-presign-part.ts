import { type S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { PresignedSegmentUpload } from "@cleancut/core";

/**
 * Direct uploads: a SigV4 query-presigned UploadPart URL for one part of this upload's
 * multipart upload. The signature covers the method (PUT), the key, the UploadId, the part
 * number and `content-length`, so the URL can store exactly `size` bytes as that part and
 * do nothing else: no read, no other part, no AbortMultipartUpload, no DeleteObject. Once
 * the multipart upload is aborted (cancel), the URL stores nothing any more.
 */
export async function presignPartUpload(
  client: S3Client,
  part: { bucket: string; key: string; uploadId: string; partNumber: number; size: number },
  expiresSeconds: number,
): Promise<PresignedSegmentUpload> {
  const url = await getSignedUrl(
    client,
    new UploadPartCommand({
      Bucket: part.bucket,
      Key: part.key,
      UploadId: part.uploadId,
      PartNumber: part.partNumber,
      ContentLength: part.size,
    }),
    { expiresIn: expiresSeconds },
  );
  const signed = new URL(url).searchParams.get("X-Amz-SignedHeaders")?.split(";") ?? [];
  // Everything signed must be sent as signed; `host` comes from the URL itself.
  const headers: Record<string, string> = {};
  if (signed.includes("content-length")) headers["content-length"] = String(part.size);
  return { url, headers };
}
