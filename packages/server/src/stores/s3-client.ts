import { S3Client } from "@aws-sdk/client-s3";
import type { S3StoreOptions } from "./s3-store-options.js";

/** Builds the SDK client the way the store needs it (checksums only when required: Swift's s3api and presigned URLs). */
export function createS3Client(options: Omit<S3StoreOptions, "bucket" | "client">): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? true,
    credentials: options.credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // Without a logger the SDK warns on the console each time a streamed part is cut off
    // ("non-retryable streaming request"): that is every part a cancel stops, which is the
    // point. Failures still surface as the errors the calls throw.
    logger: quietSdkLogger,
  });
}

const ignore = () => {};
const quietSdkLogger = { trace: ignore, debug: ignore, info: ignore, warn: ignore, error: ignore };
