import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { type S3Client, UploadPartCommand } from "@aws-sdk/client-s3";
import {
  BodyIncompleteError,
  DigestMismatchError,
  type SegmentWrite,
  StorageUnavailableError,
} from "@cleancut/core";
import { hashingCounter } from "./hashing-counter.js";
import { mapS3Error, normalizeBodyError } from "./s3-errors.js";

export interface UploadedPart {
  /** The part's ETag as S3 returns it: the quoted MD5 of its bytes for a plain PUT. */
  etag: string;
  sha256: string;
}

/**
 * Streams one segment to S3 as part `write.index + 1` of the multipart upload `uploadId` at
 * `key`. The body streams through `hashingCounter` (SHA-256) and MD5, and its LAST chunk is
 * held back until the body has ended, its length is exact and its SHA-256 matches
 * `write.sha256`: a body that fails a check is cut before S3 received `ContentLength` bytes,
 * so S3 never stores the part.
 */
export async function uploadCheckedPart(
  client: S3Client,
  target: { bucket: string; key: string; uploadId: string },
  write: SegmentWrite,
  body: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): Promise<UploadedPart> {
  const counter = hashingCounter(write.size, `segment ${write.index}`);
  const md5 = createHash("md5");
  // Aborts the request when the body fails a check, or when the caller's signal aborts.
  const request = new AbortController();
  const onAbort = () => request.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  let bodyError: unknown;
  let sha256: string | undefined;
  const checked = async function* (): AsyncGenerator<Uint8Array> {
    try {
      let held: Uint8Array | undefined;
      for await (const chunk of counter.transform(body)) {
        if (held !== undefined) yield held;
        md5.update(chunk);
        held = chunk;
      }
      // The body ended: only now may its last bytes go, and only if it is exactly right.
      const digest = counter.finish();
      if (write.sha256 !== undefined && write.sha256 !== digest) {
        throw new DigestMismatchError(`segment ${write.index} does not match its Content-Digest`, {
          details: { expected: write.sha256, actual: digest },
        });
      }
      sha256 = digest;
      if (held !== undefined) yield held;
    } catch (error) {
      bodyError = error;
      request.abort(error);
      throw error;
    }
  };
  const stream = Readable.from(checked());
  // The failure is kept in `bodyError` and ends the request; the SDK pipes the body without
  // listening for its errors, so without this an errored body would be an uncaught error.
  stream.on("error", () => {});
  try {
    const response = await client.send(
      new UploadPartCommand({
        Bucket: target.bucket,
        Key: target.key,
        UploadId: target.uploadId,
        PartNumber: write.index + 1,
        ContentLength: write.size,
        Body: stream,
      }),
      { abortSignal: request.signal },
    );
    if (sha256 === undefined) throw new BodyIncompleteError(`segment ${write.index} was not sent whole`);
    const expectedEtag = `"${md5.digest("hex")}"`;
    const etag = response.ETag ?? expectedEtag;
    if (/^"[0-9a-f]{32}"$/.test(etag) && etag !== expectedEtag) {
      // S3 stored other bytes than we sent. The part stays until it is overwritten or the
      // upload is aborted; it is not listed as a segment because its ETag matches no record.
      throw new StorageUnavailableError(`S3 stored segment ${write.index} with an unexpected ETag`, {
        details: { expected: expectedEtag, actual: etag },
      });
    }
    return { etag, sha256 };
  } catch (error) {
    if (bodyError !== undefined) throw normalizeBodyError(bodyError, signal, write, counter.received);
    if (signal.aborted) throw signal.reason ?? error;
    throw mapS3Error(error, `segment ${write.index}`);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
