// npm run bench — one run, side by side on this machine:
//  1. throughput: a 1 GiB file through @cleancut/client to `cleancut serve` (disk store) vs a raw
//     node:http PUT of the same file to a discarding sink and to a file on the same disk;
//  2. peak RSS of client and server processes for a 50 MiB and a 1 GiB upload;
//  3. cancel-to-verified through the client: 50 cancels with 4 segment PUTs in flight.
// Writes bench/results/upload.json and bench/results/upload.md.
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createUpload, NodeFileSource } from "@cleancut/client/node";
import { benchTempDir } from "./lib/children.mjs";
import { peakRssMiB } from "./lib/peak-rss.mjs";
import { rawPut, startRawServer } from "./lib/raw-put.mjs";
import { lastJsonLine, runNode } from "./lib/run-node.mjs";
import { startServerProcess } from "./lib/server-process.mjs";
import { quantile, summary } from "./lib/stats.mjs";
import { makeVideoLikeFile } from "./lib/video-like-file.mjs";

const MiB = 1024 * 1024;
const bigSize = Number(process.env.BIG_MIB ?? 1024) * MiB;
const smallSize = 50 * MiB;
const segmentSize = 8 * MiB;
const concurrency = 4;
const cancels = Number(process.env.CANCELS ?? 50);
const repeats = Number(process.env.REPEATS ?? 3);
const work = await benchTempDir("cleancut-bench-files-");

async function cleancutUpload(path) {
  const server = await startServerProcess(["--no-ffprobe"]);
  try {
    const out = await runNode([
      new URL("./lib/client-upload.mjs", import.meta.url).pathname,
      server.url,
      path,
      String(segmentSize),
      String(concurrency),
    ]);
    const client = lastJsonLine(out);
    return { ...client, serverPeakRssMiB: await peakRssMiB(server.pid) };
  } finally {
    await server.stop();
    await rm(server.dataDir, { recursive: true, force: true });
  }
}

async function cancelLatency(path) {
  const server = await startServerProcess(["--no-ffprobe"]);
  const latencies = [];
  const inFlight = [];
  let unverified = 0;
  try {
    for (let run = 0; run < cancels; run++) {
      const source = await NodeFileSource.open(path);
      const upload = createUpload(source, { endpoint: server.url, segmentSize, concurrency });
      upload.start();
      upload.done.catch(() => {});
      const deadline = Date.now() + 10_000;
      while (!(upload.activeRequests >= concurrency && upload.bytesSent > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setImmediate(resolve));
      }
      inFlight.push(upload.activeRequests);
      const started = performance.now();
      const report = await upload.cancel();
      latencies.push(performance.now() - started);
      if (!report.verified) unverified += 1;
      await source.close();
    }
  } finally {
    await server.stop();
  }
  const { readdir } = await import("node:fs/promises");
  const leftoverFiles = (await readdir(join(server.dataDir, "uploads"), { recursive: true })).length;
  await rm(server.dataDir, { recursive: true, force: true });
  return { latencyMs: summary(latencies), inFlightAtCancel: summary(inFlight), unverified, leftoverFiles };
}

const mibps = (bytes, ms) => Math.round((bytes / MiB / (ms / 1000)) * 10) / 10;
try {
  const big = join(work, "big.mp4");
  const small = join(work, "small.mp4");
  await makeVideoLikeFile(big, bigSize);
  await makeVideoLikeFile(small, smallSize);

  // Interleaved repeats: the machine is shared and noisy, so each system runs `repeats` times
  // in turn and the medians are compared (ratios within one run, never across runs).
  const sink = await startRawServer("sink", work);
  const file = await startRawServer("file", work);
  const rawSink = [];
  const rawFile = [];
  const bigRuns = [];
  for (let round = 0; round < repeats; round++) {
    rawSink.push(await rawPut(sink.url, big, bigSize));
    rawFile.push(await rawPut(file.url, big, bigSize));
    bigRuns.push(await cleancutUpload(big));
  }
  sink.stop();
  file.stop();
  const rawSinkMs = quantile(rawSink, 0.5);
  const rawFileMs = quantile(rawFile, 0.5);
  const bigRun = {
    uploadMs: quantile(
      bigRuns.map((run) => run.uploadMs),
      0.5,
    ),
    totalMs: quantile(
      bigRuns.map((run) => run.totalMs),
      0.5,
    ),
    peakRssMiB: Math.max(...bigRuns.map((run) => run.peakRssMiB)),
    serverPeakRssMiB: Math.max(...bigRuns.map((run) => run.serverPeakRssMiB)),
  };
  const smallRun = await cleancutUpload(small);
  const cancel = await cancelLatency(big);

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    bigSizeMiB: bigSize / MiB,
    segmentSizeMiB: segmentSize / MiB,
    concurrency,
    repeats,
    spreadMiBps: {
      rawPutToSink: rawSink.map((ms) => mibps(bigSize, ms)),
      rawPutToFile: rawFile.map((ms) => mibps(bigSize, ms)),
      cleancutSegmentsStored: bigRuns.map((run) => mibps(bigSize, run.uploadMs)),
    },
    throughputMiBps: {
      rawPutToSink: mibps(bigSize, rawSinkMs),
      rawPutToFile: mibps(bigSize, rawFileMs),
      cleancutSegmentsStored: mibps(bigSize, bigRun.uploadMs),
      cleancutIncludingComplete: mibps(bigSize, bigRun.totalMs),
    },
    ratioToRawSink: Math.round((rawSinkMs / bigRun.uploadMs) * 100) / 100,
    ratioToRawFile: Math.round((rawFileMs / bigRun.uploadMs) * 100) / 100,
    peakRssMiB: {
      client50MiB: smallRun.peakRssMiB,
      client1GiB: bigRun.peakRssMiB,
      server50MiB: smallRun.serverPeakRssMiB,
      server1GiB: bigRun.serverPeakRssMiB,
    },
    cancel,
  };
  const t = result.throughputMiBps;
  const md = [
    `# cleancut upload benchmark (${result.date}, Node ${result.node}, medians of ${repeats} interleaved runs)`,
    "",
    `| ${result.bigSizeMiB} MiB over loopback | MiB/s | vs raw PUT to sink | vs raw PUT to file |`,
    "| --- | --- | --- | --- |",
    `| raw node:http PUT → discarding sink | ${t.rawPutToSink} | 1.00 | |`,
    `| raw node:http PUT → file on same disk | ${t.rawPutToFile} | | 1.00 |`,
    `| cleancut client → server, all segments stored | ${t.cleancutSegmentsStored} | ${result.ratioToRawSink} | ${result.ratioToRawFile} |`,
    `| cleancut, including complete (join + checks) | ${t.cleancutIncludingComplete} | | |`,
    "",
    `Spread (MiB/s per run): raw→sink ${result.spreadMiBps.rawPutToSink.join(", ")}; raw→file ${result.spreadMiBps.rawPutToFile.join(", ")}; cleancut ${result.spreadMiBps.cleancutSegmentsStored.join(", ")}.`,
    "",
    "| peak RSS (MiB, worst run) | 50 MiB upload | 1 GiB upload |",
    "| --- | --- | --- |",
    `| client process | ${result.peakRssMiB.client50MiB} | ${result.peakRssMiB.client1GiB} |`,
    `| server process | ${result.peakRssMiB.server50MiB} | ${result.peakRssMiB.server1GiB} |`,
    "",
    `| cancel → verified through the client (${cancels} cancels) | median ms | p99 ms | worst ms |`,
    "| --- | --- | --- | --- |",
    `| client.cancel() until verified report | ${cancel.latencyMs.median} | ${cancel.latencyMs.p99} | ${cancel.latencyMs.max} |`,
    "",
    `Segment PUTs in flight at cancel: median ${cancel.inFlightAtCancel.median}, min ${cancel.inFlightAtCancel.min}. Unverified reports: ${cancel.unverified}. Files left under uploads/: ${cancel.leftoverFiles}.`,
    "",
  ].join("\n");
  await writeFile(new URL("./results/upload.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(new URL("./results/upload.md", import.meta.url), md);
  console.log(md);
  if (cancel.unverified > 0 || cancel.leftoverFiles > 0) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
