// npm run bench:compare — cleancut against what a user would pick instead, same machine, same
// files, same run (loopback only):
//   systems: cleancut (disk + SQLite, S3 proxied, S3 direct; S3 = local Swift s3api + PostgreSQL),
//            @tus/server (file store) + tus-js-client, @aws-sdk/lib-storage `Upload` straight to
//            the same Swift, and the ceilings (raw node:http PUT to a sink / to a file, a file copy);
//   1. a 1 GiB upload (client in its own process): MiB/s, % of the raw ceilings, peak RSS of
//      client and server; the same for 50 MiB (memory flat in file size?);
//   2. 50 concurrent 20 MiB uploads from one process: total MiB/s, p99 per-upload time;
//   3. 200 cancels at seeded random points (10 % during the creation request, the rest at 0–100 %
//      of the bytes sent) through each system's own cancel/abort API: its latency, and then the
//      bytes and objects left behind, listed from the storage itself.
// Runs 1 and 2 are repeated (--runs, default 3), interleaved across systems; medians and spread.
// Writes bench/results/compare.json, compare.md and compare.svg.
import { execFileSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { CreateBucketCommand, DeleteBucketCommand } from "@aws-sdk/client-s3";
import { barChartSvg } from "./lib/bar-chart.mjs";
import { benchTempDir } from "./lib/children.mjs";
import { cpuBound, requiredHashPasses } from "./lib/cpu-budget.mjs";
import { cores, sha256SecondsPerGiB } from "./lib/machine-cpu.mjs";
import { createBenchDatabase } from "./lib/postgres-db.mjs";
import { prng } from "./lib/prng.mjs";
import { quantile, summary } from "./lib/stats.mjs";
import { startSwift, swiftClient } from "./lib/swift.mjs";
import { cleancutSystem } from "./lib/systems/cleancut.mjs";
import { libStorageSystem } from "./lib/systems/lib-storage.mjs";
import { rawNames, rawSystem } from "./lib/systems/raw.mjs";
import { tusSystem } from "./lib/systems/tus-server.mjs";
import { makeVideoLikeFile } from "./lib/video-like-file.mjs";

/**
 * Writes back what the previous system left dirty in the page cache (a file store that never
 * fsyncs leaves up to a GiB of it), so no system pays, in its own fsyncs, for another's bytes.
 */
function settleDisk() {
  execFileSync("sync");
}

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    "size-mib": { type: "string", default: "1024" },
    "small-mib": { type: "string", default: "50" },
    concurrent: { type: "string", default: "50" },
    "concurrent-mib": { type: "string", default: "20" },
    cancels: { type: "string", default: "200" },
    "cancel-mib": { type: "string", default: "32" },
    seed: { type: "string" },
    only: { type: "string" },
    "budget-s": { type: "string", default: "3000" },
  },
});
const runs = Number(args.runs);
const bigSize = Number(args["size-mib"]) * MiB;
const smallSize = Number(args["small-mib"]) * MiB;
const concurrent = Number(args.concurrent);
const concurrentSize = Number(args["concurrent-mib"]) * MiB;
const cancels = Number(args.cancels);
const cancelSize = Number(args["cancel-mib"]) * MiB;
const seed = Number(args.seed ?? Date.now() % 2 ** 31);
const budgetMs = Number(args["budget-s"]) * 1000;
const began = Date.now();
const log = (message) => console.error(`[${Math.round((Date.now() - began) / 1000)} s] ${message}`);
const mibps = (bytes, ms) => Math.round((bytes / MiB / (ms / 1000)) * 10) / 10;
const skipped = [];
const overBudget = (what) => {
  if (Date.now() - began <= budgetMs) return false;
  skipped.push(what);
  return true;
};

// Before anything else runs: one core's SHA-256 rate, for the CPU budget in the report.
const sha256SPerGiB = sha256SecondsPerGiB();
const work = await benchTempDir("cleancut-bench-compare-");
const s3 = await startSwift();
const s3client = swiftClient(s3);
const bucket = `cleancut-compare-${Date.now().toString(36)}`;
await s3client.send(new CreateBucketCommand({ Bucket: bucket }));
const database = await createBenchDatabase();
/** @type {import("./lib/systems/system.mjs").Environment} */
const env = { work, s3, bucket, databaseUrl: database.url };

const allSystems = [
  rawSystem(env, "sink"),
  rawSystem(env, "file"),
  rawSystem(env, "file-fsync"),
  rawSystem(env, "copy"),
  cleancutSystem(env, "disk"),
  cleancutSystem(env, "s3-proxy"),
  cleancutSystem(env, "s3-direct"),
  tusSystem(env),
  libStorageSystem(env),
];
const only = args.only?.split(",");
const systems = allSystems.filter(
  (system) => only === undefined || only.some((o) => system.name.includes(o)),
);
const results = new Map(
  systems.map((system) => [system.name, { name: system.name, big: [], small: [], concurrent: [] }]),
);
let failed = false;

try {
  const big = join(work, "big.mp4");
  const small = join(work, "small.mp4");
  const medium = join(work, "concurrent.mp4");
  const cancelFile = join(work, "cancel.mp4");
  await makeVideoLikeFile(big, bigSize);
  await makeVideoLikeFile(small, smallSize);
  await makeVideoLikeFile(medium, concurrentSize);
  await makeVideoLikeFile(cancelFile, cancelSize);
  for (const system of systems) await system.start();
  log(`started ${systems.length} systems; seed ${seed}`);

  // 1. One big upload per system per round, interleaved (the machine is shared and noisy).
  for (let round = 0; round < runs; round++) {
    for (const system of systems) {
      if (overBudget(`1 GiB ${system.name} round ${round + 1}`)) continue;
      settleDisk();
      const result = await system.uploadInChild(big, bigSize);
      results.get(system.name).big.push(result);
      log(`${system.name}: ${bigSize / MiB} MiB at ${mibps(bigSize, result.ms)} MiB/s`);
    }
  }
  for (const system of systems) {
    if (overBudget(`${smallSize / MiB} MiB ${system.name}`)) continue;
    results.get(system.name).small.push(await system.uploadInChild(small, smallSize));
  }

  // 2. Many at once from one process.
  for (let round = 0; round < runs; round++) {
    for (const system of systems) {
      if (overBudget(`concurrent ${system.name} round ${round + 1}`)) continue;
      settleDisk();
      const started = performance.now();
      const each = await Promise.all(
        Array.from({ length: concurrent }, () => system.uploadInProcess(medium, concurrentSize)),
      );
      const wallMs = performance.now() - started;
      results.get(system.name).concurrent.push({
        wallMs,
        p99Ms: quantile(
          each.map((r) => r.ms),
          0.99,
        ),
      });
      await system.clear?.();
      log(
        `${system.name}: ${concurrent} × ${concurrentSize / MiB} MiB at ${mibps(concurrent * concurrentSize, wallMs)} MiB/s`,
      );
    }
  }

  // 3. Cancels at the same seeded points on every system, then what each left, from its storage.
  for (const system of systems.filter((s) => s.canCancel)) {
    await system.clear?.();
    const before = await system.leftovers();
    const random = prng(seed);
    const outcomes = [];
    for (let n = 0; n < cancels; n++) {
      const at = random() < 0.1 ? "creation" : random();
      if (overBudget(`cancels ${system.name} from ${n + 1}`)) break;
      outcomes.push({ at, ...(await system.cancelAt(cancelFile, cancelSize, at)) });
    }
    // Whatever the system does after its abort returned (cleancut: nothing left to do; a
    // server-side expiry would be later still) gets a few seconds before the listing.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    // Listed as the cancels left it: no clear() first (it would empty the store it lists).
    const after = await system.leftovers();
    results.get(system.name).cancels = { outcomes, before, after };
    await system.clear?.();
    log(`${system.name}: ${outcomes.length} cancels, left ${after.items} items / ${after.bytes} bytes`);
  }
} catch (error) {
  console.error(error);
  failed = true;
} finally {
  for (const system of systems) await system.stop().catch((error) => console.error(error));
  await database.drop();
  await s3client.send(new DeleteBucketCommand({ Bucket: bucket })).catch((error) => {
    console.error(`bucket ${bucket} not removed (something is left in it): ${error.name}`);
  });
  s3client.destroy();
  await rm(work, { recursive: true, force: true });
}

// The report.
const medianOf = (values) => quantile(values, 0.5);
const rows = [...results.values()].map((r) => {
  const speeds = r.big.map((b) => mibps(bigSize, b.ms));
  const conc = r.concurrent.map((c) => mibps(concurrent * concurrentSize, c.wallMs));
  const outcomes = r.cancels?.outcomes ?? [];
  const cancelMs = outcomes.filter((o) => o.error === undefined).map((o) => o.ms);
  const withCpu = r.big.filter((b) => b.cpuS !== undefined);
  return {
    name: r.name,
    mibps: speeds.length ? medianOf(speeds) : Number.NaN,
    mibpsSpread: speeds,
    // The machine's CPU over each upload: per GiB, and as the share of all its cores kept busy.
    cpuPerGiB: withCpu.length ? medianOf(withCpu.map((b) => b.cpuS / (bigSize / GiB))) : Number.NaN,
    coresBusy: withCpu.length ? medianOf(withCpu.map((b) => b.cpuS / (cores * (b.ms / 1000)))) : Number.NaN,
    clientRss: {
      big: maxOf(r.big.map((b) => b.clientPeakRssMiB)),
      small: maxOf(r.small.map((b) => b.clientPeakRssMiB)),
    },
    serverRss: {
      big: maxOf(r.big.map((b) => b.serverPeakRssMiB)),
      small: maxOf(r.small.map((b) => b.serverPeakRssMiB)),
    },
    concurrentMibps: conc.length ? medianOf(conc) : Number.NaN,
    concurrentSpread: conc,
    concurrentP99Ms: r.concurrent.length ? medianOf(r.concurrent.map((c) => c.p99Ms)) : Number.NaN,
    cancel: r.cancels && {
      n: outcomes.length,
      duringCreation: outcomes.filter((o) => o.phase === "creation").length,
      afterSuccess: outcomes.filter((o) => o.phase === "after-success").length,
      withPartsInFlight: outcomes.filter((o) => (o.inFlight ?? 0) > 0).length,
      latencyMs: summary(cancelMs),
      verified: outcomes.filter((o) => o.verified === true).length,
      errors: outcomes.filter((o) => o.error !== undefined).length,
      errorSamples: [...new Set(outcomes.filter((o) => o.error).map((o) => o.error))].slice(0, 5),
      leftBefore: r.cancels.before,
      left: r.cancels.after,
    },
  };
});
function maxOf(values) {
  const defined = values.filter((v) => v !== undefined);
  return defined.length ? Math.max(...defined) : undefined;
}
const sink = rows.find((r) => r.name === rawNames.sink)?.mibps;
const file = rows.find((r) => r.name === rawNames.file)?.mibps;
const durable = rows.find((r) => r.name === rawNames["file-fsync"])?.mibps;
const tus = rows.find((r) => r.name.startsWith("@tus"));
// What the cores allow a system with cleancut's guarantees, from this run's raw PUTs into a
// file: synced, as cleancut syncs each segment (`budget`), and even without syncing (`lenient`).
const boundOver = (name) => {
  const writeCpuPerGiB = rows.find((r) => r.name === name)?.cpuPerGiB;
  return writeCpuPerGiB === undefined || Number.isNaN(writeCpuPerGiB)
    ? undefined
    : cpuBound({ writeCpuPerGiB, sha256SPerGiB, cores });
};
const budget = boundOver(rawNames["file-fsync"]);
const lenient = boundOver(rawNames.file);
const pct = (value, of) => (of ? `${Math.round((value / of) * 100)} %` : "");
const fmt = (value) =>
  value === undefined || Number.isNaN(value) ? "–" : String(Math.round(value * 10) / 10);
const fmtCpu = (value) => (value === undefined || Number.isNaN(value) ? "–" : value.toFixed(2));

const result = {
  date: new Date().toISOString(),
  node: process.version,
  loadavg: loadavg(),
  seed,
  runs,
  cores,
  sha256SPerGiB,
  cpuBound: { synced: budget, unsynced: lenient },
  sizes: {
    bigMiB: bigSize / MiB,
    smallMiB: smallSize / MiB,
    concurrent,
    concurrentMiB: concurrentSize / MiB,
    cancelMiB: cancelSize / MiB,
  },
  elapsedS: Math.round((Date.now() - began) / 1000),
  skippedOverBudget: skipped,
  systems: rows,
  raw: Object.fromEntries([...results.values()].map((r) => [r.name, r])),
};
const targets = targetsOf(rows);
result.targets = targets;
const md = [
  `# cleancut vs the tools people use today (${result.date})`,
  "",
  `One run of \`npm run bench:compare\` on this machine (2 cores shared by client, server and storage; load average at the end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(
      " / ",
    )}; Node ${process.version}; seed ${seed}; ${result.elapsedS} s). Loopback only. \`sync\` before every measured upload, so each system starts with no dirty page cache left by the previous one. ${runs} interleaved runs of each throughput scenario: the median, and every run's figure as the spread. S3 = a local OpenStack Swift s3api on the same machine. cleancut's time is until \`complete\` answered (segments joined into the video and checked); tus's until the last PATCH answered; lib-storage's until CompleteMultipartUpload answered.`,
  "",
  "![chart](compare.svg)",
  "",
  `## ${bigSize / MiB} MiB upload (client in its own process)`,
  "",
  "| system | MiB/s (median) | runs | % of raw PUT → sink | % of raw PUT → file | % of raw PUT → file, fsync'd | machine CPU-s per GiB | cores busy | client peak RSS MiB (" +
    `${smallSize / MiB} MiB / ${bigSize / MiB} MiB) | server peak RSS MiB (${smallSize / MiB} MiB / ${bigSize / MiB} MiB) |`,
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.mibps)} | ${r.mibpsSpread.join(", ")} | ${pct(r.mibps, sink)} | ${pct(r.mibps, file)} | ${pct(r.mibps, durable)} | ${fmtCpu(r.cpuPerGiB)} | ${pct(r.coresBusy, 1)} | ${fmt(r.clientRss.small)} / ${fmt(r.clientRss.big)} | ${fmt(r.serverRss.small)} / ${fmt(r.serverRss.big)} |`,
  ),
  "",
  `Machine CPU: every core's busy time during the upload (\`/proc/stat\`: client, server, storage and the kernel's work for them), per GiB; "cores busy" is that time over ${cores} cores × the upload's duration. One core hashes SHA-256 at ${fmt(1024 / sha256SPerGiB)} MiB/s here (${fmtCpu(sha256SPerGiB)} CPU-s per GiB, measured at the start of this run).`,
  "",
  ...(budget && lenient
    ? [
        `**What ${cores} cores allow.** A system with cleancut's guarantees moves every byte into a file and syncs it, as the raw PUT → file, fsync'd does (${fmtCpu(budget.cpuPerGiB - requiredHashPasses * sha256SPerGiB)} CPU-s per GiB in this run, no hashing), and hashes it ${requiredHashPasses} times (the client's \`Content-Digest\` per segment, the server's check of it, the video's SHA-256 over the whole file in order): at least ${fmtCpu(budget.cpuPerGiB)} CPU-s per GiB, so at most **${fmt(budget.mibps)} MiB/s** on ${cores} cores kept busy all the time, before any bookkeeping or waiting on the disk. Even without syncing (the raw PUT → file's ${fmtCpu(lenient.cpuPerGiB - requiredHashPasses * sha256SPerGiB)} CPU-s per GiB) it would be at most ${fmt(lenient.mibps)} MiB/s.`,
        "",
      ]
    : []),
  `## ${concurrent} concurrent ${concurrentSize / MiB} MiB uploads (one client process)`,
  "",
  "| system | total MiB/s (median) | runs | p99 per-upload s |",
  "| --- | --- | --- | --- |",
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(r.concurrentMibps)} | ${r.concurrentSpread.join(", ")} | ${fmt(r.concurrentP99Ms / 1000)} |`,
  ),
  "",
  `## ${cancels} cancels at random points (${cancelSize / MiB} MiB file; 10 % during the creation request), each system's own cancel`,
  "",
  "| system | cancels | during creation / with parts in flight / after success | cancel → settled median ms | p99 ms | verified by the system | cancel errors | left in storage afterwards (items / bytes) |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
  ...rows
    .filter((r) => r.cancel)
    .map(
      (r) =>
        `| ${r.name} | ${r.cancel.n} | ${r.cancel.duringCreation} / ${r.cancel.withPartsInFlight} / ${r.cancel.afterSuccess} | ${r.cancel.latencyMs.median} | ${r.cancel.latencyMs.p99} | ${r.cancel.verified} | ${r.cancel.errors} | **${r.cancel.left.items} / ${r.cancel.left.bytes}** |`,
    ),
  "",
  "What was left (first names, listed from each store):",
  "",
  ...rows
    .filter((r) => r.cancel && r.cancel.left.items > 0)
    .map(
      (r) =>
        `- ${r.name}: ${r.cancel.left.names.slice(0, 5).join(", ")}${r.cancel.left.items > 5 ? ", …" : ""}`,
    ),
  ...rows
    .filter((r) => r.cancel?.errorSamples.length)
    .map((r) => `- ${r.name} cancel errors: ${r.cancel.errorSamples.join("; ")}`),
  "",
  "## Targets",
  "",
  ...targets.map((t) => `- ${t.met ? "✅" : "❌"} ${t.what}: ${t.measured}`),
  "",
  ...(skipped.length ? [`**Over the time budget; skipped: ${skipped.join("; ")}.**`, ""] : []),
].join("\n");

await writeFile(new URL("./results/compare.json", import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
await writeFile(new URL("./results/compare.md", import.meta.url), `${md}\n`);
await writeFile(
  new URL("./results/compare.svg", import.meta.url),
  barChartSvg([
    {
      title: `${bigSize / MiB} MiB upload, MiB/s (bar: median; line: spread of ${runs} runs)`,
      unit: "MiB/s",
      rows: rows.map((r) => ({
        label: r.name,
        median: r.mibps,
        min: Math.min(...r.mibpsSpread),
        max: Math.max(...r.mibpsSpread),
      })),
    },
    {
      title: `${concurrent} concurrent ${concurrentSize / MiB} MiB uploads, total MiB/s`,
      unit: "MiB/s",
      rows: rows.map((r) => ({
        label: r.name,
        median: r.concurrentMibps,
        min: Math.min(...r.concurrentSpread),
        max: Math.max(...r.concurrentSpread),
      })),
    },
    {
      title: "Cancel → settled, p99 ms",
      unit: "ms",
      rows: rows.filter((r) => r.cancel).map((r) => ({ label: r.name, median: r.cancel.latencyMs.p99 })),
    },
    {
      title: `Bytes left in storage after ${cancels} cancels (MiB)`,
      unit: "MiB",
      rows: rows
        .filter((r) => r.cancel)
        .map((r) => ({
          label: r.name,
          median: r.cancel.left.bytes / MiB,
          note: `(${r.cancel.left.items} items)`,
        })),
    },
  ]),
);
console.log(md);
if (failed || targets.some((t) => t.hard && !t.met)) process.exitCode = 1;

/** The targets, checked against this run. `hard`: a cleancut guarantee (exit 1 if missed). */
function targetsOf(all) {
  const list = [];
  const cleancut = all.filter((r) => r.name.startsWith("cleancut"));
  const best = cleancut.reduce((a, b) => (b.mibps > (a?.mibps ?? 0) ? b : a), undefined);
  // Where a throughput target asks for more than the cores allow any system with cleancut's
  // guarantees (see "What the cores allow" in the report), the report says so next to it.
  const againstBound = (target) =>
    budget && lenient && target > budget.mibps
      ? `; the target, ${fmt(target)} MiB/s, is above the ${fmt(budget.mibps)} MiB/s that ${cores} cores allow a system hashing and syncing as cleancut must (${target > lenient.mibps ? "and above the" : "below the"} ${fmt(lenient.mibps)} MiB/s without syncing)`
      : "";
  if (best && tus) {
    list.push({
      what: "throughput ≥ 1.5× @tus/server + tus-js-client",
      measured: `${best.name} ${fmt(best.mibps)} vs ${fmt(tus.mibps)} MiB/s = ${(best.mibps / tus.mibps).toFixed(2)}×${againstBound(1.5 * tus.mibps)}`,
      met: best.mibps >= 1.5 * tus.mibps,
    });
  }
  if (best && sink) {
    list.push({
      what: "throughput ≥ 70 % of the raw ceiling (PUT → sink)",
      measured: `${pct(best.mibps, sink)} (${pct(best.mibps, file)} of PUT → file, ${pct(best.mibps, durable)} of PUT → file fsync'd)${againstBound(0.7 * sink)}`,
      met: best.mibps >= 0.7 * sink,
    });
  }
  for (const r of cleancut) {
    if (r.clientRss.big !== undefined && r.clientRss.small !== undefined) {
      list.push({
        what: `${r.name}: memory flat in file size (client and server peak RSS at ${bigSize / MiB} MiB ≤ 1.25× at ${smallSize / MiB} MiB)`,
        measured: `client ${fmt(r.clientRss.small)} → ${fmt(r.clientRss.big)} MiB, server ${fmt(r.serverRss.small)} → ${fmt(r.serverRss.big)} MiB`,
        met:
          r.clientRss.big <= 1.25 * r.clientRss.small &&
          (r.serverRss.big ?? 0) <= 1.25 * (r.serverRss.small ?? Infinity),
      });
    }
    if (r.cancel) {
      const limit = r.name.includes("disk") ? 100 : 500;
      list.push({
        what: `${r.name}: cancel → verified p99 < ${limit} ms`,
        measured: `${r.cancel.latencyMs.p99} ms (median ${r.cancel.latencyMs.median})`,
        met: r.cancel.latencyMs.p99 < limit,
      });
      list.push({
        what: `${r.name}: zero bytes left after every cancel, every cancel verified`,
        measured: `${r.cancel.left.items} items / ${r.cancel.left.bytes} bytes left; ${r.cancel.verified} of ${r.cancel.n} verified (${r.cancel.afterSuccess} finished before the cancel and were deleted)`,
        met: r.cancel.left.items === 0 && r.cancel.verified + r.cancel.afterSuccess === r.cancel.n,
        hard: true,
      });
    }
  }
  return list;
}
