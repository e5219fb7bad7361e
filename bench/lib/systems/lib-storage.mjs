// @aws-sdk/lib-storage `Upload` straight to S3 (the Swift s3api of the run), no server of ours:
// what people pick to send big files to a bucket. Swift is the server, so no server RSS.
// partSize 8 MiB, queueSize 4: cleancut's defaults (lib-storage's own are 5 MiB and 4).
// See system.mjs for the interface.
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { AbortMultipartUploadCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { deleteObject, libStorageUpload, partSize, queueSize } from "../clients/lib-storage-upload.mjs";
import { runJsonChild } from "../run-node.mjs";
import { bucketContents, bucketLeftovers } from "../storage-listing.mjs";
import { swiftClient } from "../swift.mjs";

const uploadScript = new URL("../clients/lib-storage-upload.mjs", import.meta.url).pathname;
const prefix = "lib-storage/";
const newKey = () => `${prefix}${randomBytes(8).toString("hex")}`;

/** @param {import("./system.mjs").Environment} env @returns {import("./system.mjs").System} */
export function libStorageSystem(env) {
  let client;
  const buffers = new Map();

  /** Everything under the prefix, from the bucket: objects, and unfinished multipart uploads. */
  const listAll = () => bucketContents(client, env.bucket, prefix);

  return {
    name: "@aws-sdk/lib-storage → S3",
    canCancel: true,
    async start() {
      client = swiftClient(env.s3);
    },
    async uploadInChild(path) {
      const { ms, cpuS, peakRssMiB } = await runJsonChild(uploadScript, [env.bucket, newKey(), path], {
        env: {
          CLEANCUT_S3_ENDPOINT: env.s3.endpoint,
          CLEANCUT_S3_REGION: env.s3.region,
          CLEANCUT_S3_ACCESS_KEY_ID: env.s3.accessKeyId,
          CLEANCUT_S3_SECRET_ACCESS_KEY: env.s3.secretAccessKey,
        },
      });
      return { ms, cpuS, clientPeakRssMiB: peakRssMiB };
    },
    async uploadInProcess(path) {
      const key = newKey();
      const { ms } = await libStorageUpload(client, env.bucket, key, createReadStream(path));
      await deleteObject(client, env.bucket, key);
      return { ms };
    },
    async cancelAt(path, size, at) {
      // The file as a Buffer, read once (as tus-js-client's cancels): no disk reads in the race.
      if (!buffers.has(path)) buffers.set(path, readFile(path));
      const data = await buffers.get(path);
      const upload = new Upload({
        client,
        params: { Bucket: env.bucket, Key: newKey(), Body: data, ContentType: "video/mp4" },
        partSize,
        queueSize,
      });
      let loaded = 0;
      let reached;
      const atPoint = new Promise((resolve) => {
        reached = resolve;
      });
      upload.on("httpUploadProgress", (progress) => {
        loaded = progress.loaded ?? loaded;
        if (at !== "creation" && loaded >= at * size) reached();
      });
      let settled;
      const done = upload.done().then(
        () => {
          settled = { completed: true };
          reached();
        },
        (error) => {
          settled = { error };
          reached();
        },
      );
      // "creation": after 0–3 ms, as for tus (an abort in the same tick as done() would stop it
      // before CreateMultipartUpload is even sent).
      if (at === "creation") await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
      else await atPoint;
      const phase = settled?.completed ? "after-success" : upload.uploadId ? "transfer" : "creation";
      const earlyError = settled?.error;
      const sentFraction = Math.round((loaded / size) * 1000) / 1000;
      const started = performance.now();
      await upload.abort();
      await done;
      const ms = performance.now() - started;
      let error;
      if (earlyError) error = `upload failed before the abort: ${earlyError.message}`;
      else if (settled.completed) error = phase === "after-success" ? undefined : "completed despite abort";
      else if (settled.error.name !== "AbortError") error = settled.error.message;
      return { phase, ms, sentFraction, ...(error ? { error } : {}) };
    },
    async leftovers() {
      return bucketLeftovers(await listAll());
    },
    async clear() {
      const { objects, uploads } = await listAll();
      await Promise.all([
        ...objects.map((object) => deleteObject(client, env.bucket, object.key)),
        ...uploads.map((upload) =>
          client
            .send(
              new AbortMultipartUploadCommand({
                Bucket: env.bucket,
                Key: upload.key,
                UploadId: upload.uploadId,
              }),
            )
            .catch((error) => {
              if (error.name !== "NoSuchUpload") throw error;
            }),
        ),
      ]);
    },
    async stop() {
      buffers.clear();
      client?.destroy();
    },
  };
}
