import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { expect } from "vitest";
import type { S3Settings } from "../../src/config.js";
import { createS3Client } from "../../src/stores/s3-store.js";
import { ensureSwift } from "./swift.js";

export interface TestBucket {
  name: string;
  client: S3Client;
  /** The S3 endpoint's origin, e.g. to tell storage requests from server requests. */
  origin: string;
  /** What `startServer({ storage: "s3", s3 })` needs for this bucket. */
  settings: S3Settings;
  /** Listed from the bucket itself: no object at the upload's key, no multipart upload for it. */
  expectNothingFor(uploadId: string): Promise<void>;
  /** Everything the bucket holds, listed from it: objects (with sizes) and multipart uploads. */
  contents(): Promise<string[]>;
  /** Checks the whole bucket is empty (no objects, no multipart uploads), then deletes it. */
  drop(): Promise<void>;
}

/** A fresh bucket on the real Swift s3api (started if needed), for one test file. */
export async function createTestBucket(prefix: string): Promise<TestBucket> {
  const swift = await ensureSwift();
  const name = `cleancut-${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const client = createS3Client({
    endpoint: swift.endpoint,
    region: swift.region,
    credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: name }));
  async function contents(): Promise<string[]> {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: name }));
    const multipart = await client.send(new ListMultipartUploadsCommand({ Bucket: name }));
    return [
      ...(listed.Contents ?? []).map((object) => `${object.Key} (${object.Size} B)`),
      ...(multipart.Uploads ?? []).map((upload) => `${upload.Key} multipart upload ${upload.UploadId}`),
    ];
  }
  return {
    name,
    client,
    origin: new URL(swift.endpoint).origin,
    settings: {
      bucket: name,
      endpoint: swift.endpoint,
      region: swift.region,
      accessKeyId: swift.accessKeyId,
      secretAccessKey: swift.secretAccessKey,
    },
    async expectNothingFor(uploadId) {
      const key = `videos/${uploadId}`;
      await expect(client.send(new HeadObjectCommand({ Bucket: name, Key: key }))).rejects.toMatchObject({
        name: "NotFound",
      });
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: name, Prefix: key }));
      expect(uploads.Uploads ?? []).toEqual([]);
    },
    contents,
    async drop() {
      expect(await contents()).toEqual([]);
      await client.send(new DeleteBucketCommand({ Bucket: name }));
    },
  };
}
