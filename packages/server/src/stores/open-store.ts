import { HeadBucketCommand } from "@aws-sdk/client-s3";
import {
  InvalidRequestError,
  type SegmentStore,
  StorageUnavailableError,
  type UploadRepository,
  type VideoStore,
} from "@cleancut/core";
import type { ServerConfig } from "../config.js";
import { DiskStore } from "./disk-store.js";
import { createS3Client, S3Store } from "./s3-store.js";

/** The store a server runs on, checked before the server listens: a missing bucket fails start-up, not the first upload. */
export async function openStore(
  config: ServerConfig,
  repository: UploadRepository,
): Promise<SegmentStore & VideoStore> {
  if (config.storage === "disk") {
    const disk = new DiskStore(config.dataDir);
    await disk.init();
    return disk;
  }
  const s3 = config.s3;
  if (s3 === undefined) throw new InvalidRequestError("--store s3 needs a bucket, a region and credentials");
  const settings = {
    region: s3.region,
    ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }),
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  };
  const client = createS3Client(settings);
  try {
    await client.send(new HeadBucketCommand({ Bucket: s3.bucket }));
  } catch (error) {
    throw new StorageUnavailableError(
      `S3 bucket ${s3.bucket} at ${s3.endpoint ?? "AWS"} cannot be used: ${(error as Error).name ?? "error"}`,
      { cause: error },
    );
  }
  return new S3Store({
    ...settings,
    bucket: s3.bucket,
    client,
    // S3 keeps an MD5 per part, not our SHA-256: the route recorded it when the part arrived.
    recordedSegments: (uploadId, signal) => repository.listRecordedSegments(uploadId, signal),
  });
}
