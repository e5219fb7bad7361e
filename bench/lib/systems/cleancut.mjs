import { rm } from "node:fs/promises";
import { join } from "node:path";
import { createUpload, NodeFileSource } from "@cleancut/client/node";
import { cancelOnce, deleteVideo } from "../cleancut-cancel.mjs";
import { peakRssMiB } from "../peak-rss.mjs";
import { resetPeakRss } from "../reset-peak-rss.mjs";
import { lastJsonLine, runNode } from "../run-node.mjs";
import { startServerProcess } from "../server-process.mjs";
import { bucketContents, bucketLeftovers, listTree } from "../storage-listing.mjs";
import { swiftClient } from "../swift.mjs";
import { timedUpload } from "../timed-upload.mjs";

const MiB = 1024 * 1024;
/** The SDK's defaults a user gets: 8 MiB segments, 4 in flight. */
const segmentSize = 8 * MiB;
const concurrency = 4;
const clientScript = new URL("../client-upload.mjs", import.meta.url).pathname;

/**
 * cleancut as a user runs it: `cleancut serve` in its own process (disk + SQLite, or S3 +
 * PostgreSQL) and @cleancut/client. "Done" is the end of `complete` (segments joined into the
 * video and checked), the same point at which the others report success. ffprobe is off for
 * every setup (magic-byte check only): the file is random bytes behind an MP4 header.
 *
 * @param {import("./system.mjs").Environment} env
 * @param {"disk"|"s3-proxy"|"s3-direct"} variant
 * @returns {import("./system.mjs").System}
 */
export function cleancutSystem(env, variant) {
  const mode = variant === "s3-direct" ? "direct" : "proxy";
  const onS3 = variant !== "disk";
  let server;
  let s3;
  /** Videos finished uploads made, deleted by `clear()`. */
  const made = [];

  const storeArgs = () =>
    onS3
      ? [
          "--store",
          "s3",
          "--s3-bucket",
          env.bucket,
          "--s3-endpoint",
          env.s3.endpoint,
          "--s3-region",
          env.s3.region,
          "--database",
          env.databaseUrl,
        ]
      : [];

  return {
    name: `cleancut (${variant === "disk" ? "disk + SQLite" : `S3 ${mode === "direct" ? "direct" : "proxied"} + PostgreSQL`})`,
    canCancel: true,
    async start() {
      // The server child reads S3 credentials from its environment only.
      process.env.CLEANCUT_S3_ACCESS_KEY_ID = env.s3.accessKeyId;
      process.env.CLEANCUT_S3_SECRET_ACCESS_KEY = env.s3.secretAccessKey;
      server = await startServerProcess(["--no-ffprobe", ...storeArgs()]);
      if (onS3) s3 = swiftClient(env.s3);
    },
    async uploadInChild(path) {
      await resetPeakRss(server.pid);
      const out = await runNode([
        clientScript,
        server.url,
        path,
        String(segmentSize),
        String(concurrency),
        mode,
      ]);
      const result = lastJsonLine(out);
      const serverPeakRssMiB = await peakRssMiB(server.pid);
      await deleteVideo(server.url, result.videoId, result.token);
      return { ms: result.totalMs, cpuS: result.cpuS, clientPeakRssMiB: result.peakRssMiB, serverPeakRssMiB };
    },
    async uploadInProcess(path) {
      const source = await NodeFileSource.open(path);
      try {
        const upload = createUpload(source, { endpoint: server.url, segmentSize, concurrency, mode });
        const { video, totalMs } = await timedUpload(upload);
        made.push({ videoId: video.videoId, token: upload.token });
        return { ms: totalMs };
      } finally {
        await source.close();
      }
    },
    async cancelAt(path, _size, at) {
      const result = await cancelOnce(
        { url: server.url, mode },
        await NodeFileSource.open(path),
        segmentSize,
        at === "creation" ? "create" : at,
        concurrency,
      );
      return {
        phase: result.completedFirst
          ? "after-success"
          : result.phase === "creating"
            ? "creation"
            : "transfer",
        ms: result.ms,
        verified: result.report?.verified ?? false,
        ...(result.error === undefined ? {} : { error: result.error }),
        inFlight: result.inFlight,
      };
    },
    async leftovers() {
      return onS3
        ? bucketLeftovers(await bucketContents(s3, env.bucket, "videos/"))
        : diskLeftovers(server.dataDir);
    },
    async clear() {
      for (const video of made.splice(0)) await deleteVideo(server.url, video.videoId, video.token);
    },
    async stop() {
      await server?.stop();
      if (server !== undefined) await rm(server.dataDir, { recursive: true, force: true });
      s3?.destroy();
    },
  };
}

/** Files (and empty upload folders) under the disk store's `uploads/` and `videos/`. */
async function diskLeftovers(dataDir) {
  const names = [];
  let bytes = 0;
  for (const top of ["uploads", "videos"]) {
    const { files, dirs } = await listTree(join(dataDir, top));
    for (const file of files) {
      bytes += file.bytes;
      names.push(join(top, file.name));
    }
    const holding = (dir) =>
      [...files.map((f) => f.name), ...dirs].some((name) => name.startsWith(`${dir}/`));
    for (const dir of dirs) if (!holding(dir)) names.push(`${join(top, dir)}/ (empty folder)`);
  }
  return { items: names.length, bytes, names: names.slice(0, 20) };
}
