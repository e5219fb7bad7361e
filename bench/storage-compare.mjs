// npm run bench:storage — one run, loopback only, side by side on this machine:
//  disk + SQLite, S3 proxied (`--store s3` + PostgreSQL, real Swift s3api), S3 direct (same
//  server, client `mode: "direct"`, segments PUT straight to Swift with presigned URLs).
//  1. upload MiB/s of a 256 MiB file through @cleancut/client (8 MiB segments, concurrency 4,
//     median of 3 interleaved runs); the video is deleted after each run;
//  2. cancel → verified report through the client, 30 cancels per setup at random points
//     (every 10th right after start(), i.e. during create; the rest at 0–100 % of progress);
//  3. 200 randomized cancels on S3 (half proxied, half direct, 5–40 MiB, 5 MiB segments), then
//     leftovers listed from the bucket itself: objects under videos/, multipart uploads, and a
//     HeadObject on videos/<id> for every cancelled upload. Must all be 0 (exit 1 otherwise).
// Starts Swift with scripts/swift/start.sh (left running, it is shared with the tests), creates
// a bucket and a PostgreSQL database and drops both at the end.
// Writes bench/results/storage.json and bench/results/storage.md.
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { createUpload, NodeFileSource } from "@cleancut/client/node";
import { benchTempDir } from "./lib/children.mjs";
import { cancelOnce, deleteVideo } from "./lib/cleancut-cancel.mjs";
import { createBenchDatabase } from "./lib/postgres-db.mjs";
import { prng } from "./lib/prng.mjs";
import { startServerProcess } from "./lib/server-process.mjs";
import { quantile, summary } from "./lib/stats.mjs";
import { startSwift, swiftClient } from "./lib/swift.mjs";
import { timedUpload } from "./lib/timed-upload.mjs";
import { makeVideoLikeFile } from "./lib/video-like-file.mjs";

const MiB = 1024 * 1024;
const bigSize = Number(process.env.BIG_MIB ?? 256) * MiB;
const segmentSize = 8 * MiB;
const concurrency = 4;
const repeats = Number(process.env.REPEATS ?? 3);
const latencyCancels = Number(process.env.CANCELS ?? 30);
const randomCancels = Number(process.env.RANDOM_CANCELS ?? 200);
const randomSegment = 5 * MiB;
const seed = Number(process.env.SEED ?? Date.now() % 2 ** 31);
const cancelSize = Number(process.env.CANCEL_MIB ?? 64) * MiB;
const budgetMs = Number(process.env.BUDGET_S ?? 570) * 1000;
const began = Date.now();

const random = prng(seed);

/** Past the time budget, each phase stops early; the run still lists the bucket, writes its results, and fails. */
const skipped = [];
function overBudget(what) {
  if (Date.now() - began <= budgetMs) return false;
  skipped.push(what);
  return true;
}
const log = (message) => console.error(`[${Math.round((Date.now() - began) / 1000)} s] ${message}`);

/** The first `size` bytes of a file, as an UploadSource (one file serves every random size). */
async function prefixSource(path, size) {
  const inner = await NodeFileSource.open(path);
  return {
    name: `random-${size}.mp4`,
    size,
    type: "video/mp4",
    read: (start, end, signal, into) => inner.read(start, end, signal, into),
    close: () => inner.close(),
  };
}

/** One full upload; returns the time until every segment was stored and until complete answered. */
async function uploadOnce(setup, path) {
  const source = await NodeFileSource.open(path);
  const upload = createUpload(source, { endpoint: setup.url, segmentSize, concurrency, mode: setup.mode });
  const { video, uploadMs, totalMs } = await timedUpload(upload);
  await source.close();
  await deleteVideo(setup.url, video.videoId, upload.token);
  return { uploadMs, totalMs };
}

function cancelSummary(results) {
  const measured = results.filter((r) => r.report);
  return {
    latencyMs: summary(measured.map((r) => r.ms)),
    duringCreate: results.filter((r) => r.phase === "creating").length,
    withPartsInFlight: results.filter((r) => r.phase === "uploading" && r.inFlight > 0).length,
    duringComplete: results.filter((r) => r.phase === "completing").length,
    completedBeforeCancel: results.filter((r) => r.completedFirst).length,
    unverified: measured.filter((r) => !r.report.verified).length,
    errors: results.filter((r) => r.error).map((r) => r.error),
    outcomes: Object.fromEntries(
      [...new Set(measured.map((r) => r.report.outcome))].map((o) => [
        o,
        measured.filter((r) => r.report.outcome === o).length,
      ]),
    ),
  };
}

const mibps = (bytes, ms) => Math.round((bytes / MiB / (ms / 1000)) * 10) / 10;
const work = await benchTempDir("cleancut-bench-storage-");
const bucket = `cleancut-bench-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
let database;
let s3client;
let bucketMade = false;
const servers = [];
let failed = false;
try {
  const s3 = await startSwift();
  s3client = swiftClient(s3);
  await s3client.send(new CreateBucketCommand({ Bucket: bucket }));
  bucketMade = true;
  database = await createBenchDatabase();
  // The server child inherits these (credentials are read from the environment only).
  process.env.CLEANCUT_S3_ACCESS_KEY_ID = s3.accessKeyId;
  process.env.CLEANCUT_S3_SECRET_ACCESS_KEY = s3.secretAccessKey;

  const disk = await startServerProcess(["--no-ffprobe"]);
  servers.push(disk);
  const s3server = await startServerProcess([
    "--no-ffprobe",
    "--store",
    "s3",
    "--s3-bucket",
    bucket,
    "--s3-endpoint",
    s3.endpoint,
    "--s3-region",
    s3.region,
    "--database",
    database.url,
  ]);
  servers.push(s3server);
  const setups = [
    { name: "disk + SQLite", url: disk.url, mode: "proxy" },
    { name: "S3 proxied + PostgreSQL", url: s3server.url, mode: "proxy" },
    { name: "S3 direct + PostgreSQL", url: s3server.url, mode: "direct" },
  ];

  const big = join(work, "big.mp4");
  await makeVideoLikeFile(big, bigSize);

  // 1. Throughput, interleaved: the machine is shared, so each setup runs in turn `repeats` times.
  const runs = setups.map(() => []);
  for (let round = 0; round < repeats; round++) {
    for (const [i, setup] of setups.entries()) {
      if (overBudget(`upload ${setup.name} round ${round + 1}`)) continue;
      runs[i].push(await uploadOnce(setup, big));
      log(`upload ${setup.name}: ${mibps(bigSize, runs[i].at(-1).uploadMs)} MiB/s`);
    }
  }

  // 2. Cancel → verified, 30 per setup (on a CANCEL_MIB file: waiting for a random point of a
  //    256 MiB upload, 60 times on S3, alone would take most of the time budget).
  const cancelFile = join(work, "cancel.mp4");
  await makeVideoLikeFile(cancelFile, cancelSize);
  const cancelledIds = [];
  const latency = [];
  for (const setup of setups) {
    const results = [];
    for (let n = 0; n < latencyCancels; n++) {
      if (overBudget(`cancels ${setup.name} from ${n + 1}`)) break;
      const fraction = n % 10 === 0 ? "create" : random();
      results.push(await cancelOnce(setup, await NodeFileSource.open(cancelFile), segmentSize, fraction));
    }
    log(`cancels ${setup.name}: ${results.length} done`);
    if (setup.url === s3server.url) cancelledIds.push(...results.map((r) => r.id).filter(Boolean));
    latency.push(cancelSummary(results));
  }

  // 3. 200 randomized cancels on S3, half proxied, half direct.
  const random40 = join(work, "random40.mp4");
  await makeVideoLikeFile(random40, 40 * MiB);
  const randomResults = { proxy: [], direct: [] };
  for (let n = 0; n < randomCancels; n++) {
    if (overBudget(`randomized cancels from ${n + 1}`)) break;
    const mode = n % 2 === 0 ? "proxy" : "direct";
    const size = 5 * MiB + Math.floor(random() * (35 * MiB + 1));
    const fraction = random() < 0.1 ? "create" : random();
    const result = await cancelOnce(
      { url: s3server.url, mode },
      await prefixSource(random40, size),
      randomSegment,
      fraction,
    );
    randomResults[mode].push({ ...result, size });
    if (result.id) cancelledIds.push(result.id);
    if ((n + 1) % 50 === 0) log(`randomized cancels: ${n + 1} done`);
  }

  // Leftovers, from the bucket itself (not from the server's word).
  const objects = [];
  let token;
  do {
    const page = await s3client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "videos/", ContinuationToken: token }),
    );
    objects.push(...(page.Contents ?? []).map((o) => o.Key));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const multipart = (await s3client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
  let headFound = 0;
  for (const id of new Set(cancelledIds)) {
    try {
      await s3client.send(new HeadObjectCommand({ Bucket: bucket, Key: `videos/${id}` }));
      headFound += 1;
    } catch (error) {
      if (error?.name !== "NotFound") throw error;
    }
  }
  const randomAll = [...randomResults.proxy, ...randomResults.direct];
  const leftovers = {
    objectsUnderVideos: objects.length,
    multipartUploads: multipart.length,
    headObjectFound: headFound,
    cancelledIdsChecked: new Set(cancelledIds).size,
    keys: [...objects, ...multipart.map((u) => `multipart:${u.Key}`)],
  };
  const leftoverCount = leftovers.objectsUnderVideos + leftovers.multipartUploads + leftovers.headObjectFound;

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    seed,
    bigSizeMiB: bigSize / MiB,
    cancelFileMiB: cancelSize / MiB,
    segmentSizeMiB: segmentSize / MiB,
    concurrency,
    repeats,
    setups: setups.map((setup, i) => ({
      name: setup.name,
      mode: setup.mode,
      spreadMiBps: runs[i].map((r) => mibps(bigSize, r.uploadMs)),
      uploadMiBps: mibps(
        bigSize,
        quantile(
          runs[i].map((r) => r.uploadMs),
          0.5,
        ),
      ),
      includingCompleteMiBps: mibps(
        bigSize,
        quantile(
          runs[i].map((r) => r.totalMs),
          0.5,
        ),
      ),
      cancel: latency[i],
    })),
    randomizedS3Cancels: {
      count: randomAll.length,
      proxy: cancelSummary(randomResults.proxy),
      direct: cancelSummary(randomResults.direct),
      sizesMiB: summary(randomAll.map((r) => r.size / MiB)),
      unverified: randomAll.filter((r) => r.report && !r.report.verified).length,
      errors: randomAll.filter((r) => r.error).length,
    },
    leftovers,
    leftoverCount,
    elapsedS: Math.round((Date.now() - began) / 1000),
    skippedOverBudget: skipped,
  };

  const rows = result.setups.map((s) => {
    const c = s.cancel;
    return `| ${s.name} | ${s.uploadMiBps} | ${s.includingCompleteMiBps} | ${c.latencyMs.median} | ${c.latencyMs.p99} | ${c.latencyMs.max} | ${c.duringCreate}/${c.withPartsInFlight}/${c.duringComplete} | ${c.unverified} |`;
  });
  const r = result.randomizedS3Cancels;
  const md = [
    `# cleancut storage comparison (${result.date}, Node ${result.node}, loopback, seed ${seed})`,
    "",
    `Upload: ${result.bigSizeMiB} MiB file, ${segmentSize / MiB} MiB segments, concurrency ${concurrency}, median of ${repeats} interleaved runs. Cancel: ${latencyCancels} cancels per setup on a ${cancelSize / MiB} MiB file (same segments and concurrency), client.cancel() until the verified report. Run took ${result.elapsedS} s.`,
    "",
    "| setup | upload MiB/s (segments stored) | MiB/s incl. complete | cancel median ms | cancel p99 ms | cancel worst ms | cancels during create / with parts in flight / during complete | unverified |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `Spread (MiB/s per run): ${result.setups.map((s) => `${s.name} ${s.spreadMiBps.join(", ")}`).join("; ")}.`,
    "",
    `| ${r.count} randomized S3 cancels (5–40 MiB, 5 MiB segments) | cancels | median ms | p99 ms | during create | parts in flight | unverified | errors |`,
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...["proxy", "direct"].map((mode) => {
      const s = r[mode];
      return `| S3 ${mode} | ${randomResults[mode].length} | ${s.latencyMs.median} | ${s.latencyMs.p99} | ${s.duringCreate} | ${s.withPartsInFlight} | ${s.unverified} | ${s.errors.length} |`;
    }),
    "",
    ...(skipped.length > 0 ? [`**Over the time budget; skipped: ${skipped.join("; ")}.**`, ""] : []),
    `Leftovers listed from the bucket after all S3 cancels: objects under videos/ ${leftovers.objectsUnderVideos}, multipart uploads ${leftovers.multipartUploads}, HeadObject found ${leftovers.headObjectFound} of ${leftovers.cancelledIdsChecked} cancelled ids. Total ${leftoverCount}.`,
    "",
  ].join("\n");
  await writeFile(new URL("./results/storage.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(new URL("./results/storage.md", import.meta.url), md);
  console.log(md);
  const unverified =
    r.unverified +
    r.errors +
    result.setups.reduce((n, s) => n + s.cancel.unverified + s.cancel.errors.length, 0);
  if (leftoverCount > 0 || unverified > 0 || skipped.length > 0) failed = true;
} catch (error) {
  console.error(error);
  failed = true;
} finally {
  for (const server of servers) {
    await server.stop();
    await rm(server.dataDir, { recursive: true, force: true });
  }
  await database?.drop();
  if (bucketMade) {
    // Anything left makes DeleteBucket fail (409): reported, never emptied here behind our back.
    await s3client.send(new DeleteBucketCommand({ Bucket: bucket })).catch((error) => {
      console.error(`bucket ${bucket} not removed: ${error.name}`);
      failed = true;
    });
  }
  await rm(work, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;
