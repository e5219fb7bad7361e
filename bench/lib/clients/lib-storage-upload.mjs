// One @aws-sdk/lib-storage `Upload` of a file (an fs.ReadStream body) straight to S3 (Swift
// s3api here). partSize 8 MiB and queueSize 4 match cleancut's default segment size and
// concurrency (lib-storage's own defaults are 5 MiB and 4). `node lib-storage-upload.mjs
// BUCKET KEY PATH` runs it as a child (S3 settings from CLEANCUT_S3_* in the environment) and
// prints one JSON line `{ms, cpuS, peakRssMiB}`; the object is deleted afterwards, not timed.
import { createReadStream } from "node:fs";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { startWindow } from "../machine-cpu.mjs";
import { peakRssMiB } from "../peak-rss.mjs";
import { swiftClient } from "../swift.mjs";

const MiB = 1024 * 1024;
export const partSize = 8 * MiB;
export const queueSize = 4;

/** The upload; resolves with the time (and machine CPU, `cpuS`) from `done()` to its resolution. */
export async function libStorageUpload(client, bucket, key, body) {
  const window = startWindow();
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: "video/mp4" },
    partSize,
    queueSize,
  });
  await upload.done();
  return window();
}

export async function deleteObject(client, bucket, key) {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [bucket, key, path] = process.argv.slice(2);
  const client = swiftClient({
    endpoint: process.env.CLEANCUT_S3_ENDPOINT,
    region: process.env.CLEANCUT_S3_REGION,
    accessKeyId: process.env.CLEANCUT_S3_ACCESS_KEY_ID,
    secretAccessKey: process.env.CLEANCUT_S3_SECRET_ACCESS_KEY,
  });
  const { ms, cpuS } = await libStorageUpload(client, bucket, key, createReadStream(path));
  const peak = await peakRssMiB(process.pid);
  await deleteObject(client, bucket, key);
  client.destroy();
  process.stdout.write(`${JSON.stringify({ ms, cpuS, peakRssMiB: peak })}\n`);
}
