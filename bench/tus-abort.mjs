// node bench/tus-abort.mjs [--runs 20] [--seed N] [--size-mib 32] [--abort-on writes|progress]
//
// What tus-js-client 4's `abort(true)` leaves behind, on cleancut's tus endpoint and on
// @tus/server 2 + @tus/file-store, with the same seeded abort points for both:
//  - ~30 % of runs abort 0–3 ms after `start()`, i.e. during the creation POST (whether the
//    upload URL was already known at that moment is recorded);
//  - the rest abort once a random fraction 0–100 % of the body bytes was sent.
// Each run uploads a fresh random buffer (`new Upload(buffer)`, retryDelays [0, 200]). Random
// bytes are not a video: an upload that completes on cleancut is refused (422) and deleted.
// An upload that settles before its abort point is aborted right after (phase after-success /
// after-error). Both servers run in their own process over loopback. After the runs, cleancut
// gets up to 10 s to clean up (its unclaimed-upload expiry is set to 3 s), @tus/server 3 s;
// then what is left is listed from the storage itself (files and bytes).
//
// "Bytes sent": tus-js-client's Node HTTP stack calls onProgress at most once per 100 ms (and
// not at the end), so for 32 MiB over loopback it reports 0, 16 KiB and maybe one more value:
// far too coarse to place abort points. By default (--abort-on writes) the bench therefore also
// counts the body bytes tus-js-client writes into its PATCH request (a wrapper around
// http.ClientRequest#write in this process) and aborts at the first of onProgress or that count
// reaching the point; --abort-on progress uses onProgress only.
//
// Writes bench/results/tus-abort.md and bench/results/tus-abort.json.

import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Upload } from "tus-js-client";
import { benchTempDir } from "./lib/children.mjs";
import { prng } from "./lib/prng.mjs";
import { startPortChild } from "./lib/run-node.mjs";
import { startServerProcess } from "./lib/server-process.mjs";
import { summary } from "./lib/stats.mjs";
import { listTree } from "./lib/storage-listing.mjs";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "20" },
    seed: { type: "string" },
    "size-mib": { type: "string", default: "32" },
    "abort-on": { type: "string", default: "writes" },
  },
});
const runs = Number(args.runs);
const seed = args.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(args.seed);
const sizeMiB = Number(args["size-mib"]);
const size = Math.round(sizeMiB * 1024 * 1024);
const abortOn = args["abort-on"];
if (!Number.isInteger(runs) || runs < 1) throw new Error("--runs must be a positive integer");
if (!Number.isInteger(seed)) throw new Error("--seed must be an integer");
if (!(size > 0)) throw new Error("--size-mib must be positive");
if (abortOn !== "writes" && abortOn !== "progress") throw new Error("--abort-on is writes or progress");

const cleancutSettleMs = 10_000;
const tusServerSettleMs = 3_000;
const runTimeoutMs = 30_000;
const metadata = { filename: "clip.mp4", filetype: "video/mp4" };
const resultsDir = new URL("./results/", import.meta.url).pathname;
const tusServerScript = new URL("./lib/clients/tus-server-process.mjs", import.meta.url).pathname;

const random = prng(seed);
const plan = Array.from({ length: runs }, (_, index) => {
  const kind = random() < 0.3 ? "creation" : "transfer";
  const value = random();
  return kind === "creation"
    ? { index, kind, delayMs: round(value * 3, 3) }
    : { index, kind, fraction: round(value, 4) };
});

// --- body-byte counter: tus-js-client's Node stack writes the PATCH body with ClientRequest#write.
let bodyWriteObserver;
const originalWrite = http.OutgoingMessage.prototype.write;
http.ClientRequest.prototype.write = function write(chunk, ...rest) {
  const result = originalWrite.call(this, chunk, ...rest);
  if (this.method === "PATCH" && bodyWriteObserver !== undefined && chunk != null) {
    bodyWriteObserver(typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length);
  }
  return result;
};

// --- servers

async function startCleancut() {
  const server = await startServerProcess(["--tus-unclaimed-ttl", "3"]);
  return {
    name: "cleancut",
    label: "cleancut (tus, disk + SQLite)",
    endpoint: `${server.url}/files/`,
    url: server.url,
    storageDir: server.dataDir,
    tmpDir: server.dataDir,
    pid: server.pid,
    async stop() {
      await server.stop();
    },
  };
}

async function startTusServer() {
  const tmpDir = await benchTempDir("tus-server-bench-");
  const directory = join(tmpDir, "files");
  await mkdir(directory);
  // Its own process, like cleancut: the client's event loop is not the server's.
  const { child, port } = await startPortChild(tusServerScript, [directory]);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  return {
    name: "tus-server",
    label: "@tus/server 2.4.5 + @tus/file-store 2.1.1",
    endpoint: `${url}/files/`,
    url,
    storageDir: directory,
    tmpDir,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

// --- storage listing
const sqliteFile = /^cleancut\.sqlite(-wal|-shm|-journal)?$/;

/** Files (paths relative to `root`) and folders under `root`. */
async function listFiles(root) {
  const { files, dirs } = await listTree(root);
  return { files: files.map((file) => ({ path: file.name, bytes: file.bytes })), dirs };
}

/** Everything the system holds: cleancut's uploads/ and videos/ (no database), @tus/server's directory. */
async function listStorage(system) {
  if (system.name !== "cleancut") {
    const { files } = await listFiles(system.storageDir);
    return { files, uploadDirs: [] };
  }
  const files = [];
  const uploadDirs = [];
  for (const top of ["uploads", "videos"]) {
    const listed = await listFiles(join(system.storageDir, top));
    for (const file of listed.files) {
      if (!sqliteFile.test(file.path)) files.push({ ...file, path: join(top, file.path) });
    }
    for (const dir of listed.dirs) uploadDirs.push(join(top, dir));
  }
  return { files, uploadDirs };
}

/** Files grouped by upload: cleancut's top folder under uploads/ or videos/, @tus/server's id (file name minus .json). */
function groupByUpload(system, files) {
  const uploads = new Map();
  for (const file of files) {
    const id =
      system.name === "cleancut"
        ? file.path.split("/").slice(0, 2).join("/")
        : file.path.replace(/\.json$/, "").split("/")[0];
    const entry = uploads.get(id) ?? { id, files: 0, bytes: 0, dataBytes: 0 };
    entry.files += 1;
    entry.bytes += file.bytes;
    if (!file.path.endsWith(".json")) entry.dataBytes += file.bytes;
    uploads.set(id, entry);
  }
  return [...uploads.values()];
}

// --- cleancut metrics
async function scrapeMetrics(system) {
  if (system.name !== "cleancut") return undefined;
  const text = await (await fetch(`${system.url}/metrics`)).text();
  const cancels = {};
  const uploads = {};
  for (const line of text.split("\n")) {
    let match = /^cleancut_cancels_total\{(.*)\} (\S+)$/.exec(line);
    if (match) {
      const labels = Object.fromEntries([...match[1].matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      cancels[`${labels.outcome}/${labels.reason}`] = Number(match[2]);
      continue;
    }
    match = /^cleancut_uploads\{state="([^"]*)"\} (\S+)$/.exec(line);
    if (match) uploads[match[1]] = Number(match[2]);
  }
  return { cancels, uploads, uploadRows: Object.values(uploads).reduce((sum, n) => sum + n, 0) };
}

function diffCounts(after, before) {
  const diff = {};
  for (const [key, value] of Object.entries(after)) {
    const delta = value - (before[key] ?? 0);
    if (delta !== 0) diff[key] = delta;
  }
  return diff;
}

// --- one run
function waitUntil(startMs, delayMs) {
  // setImmediate polling: sub-millisecond, and I/O (the POST) still proceeds meanwhile.
  return new Promise((resolve) => {
    const tick = () => (performance.now() - startMs >= delayMs ? resolve() : setImmediate(tick));
    setImmediate(tick);
  });
}

async function oneRun(system, step) {
  const buffer = randomBytes(size);
  const record = {
    run: step.index,
    plan: step.kind === "creation" ? `creation +${step.delayMs} ms` : `transfer at ${pct(step.fraction)}`,
    phase: undefined,
    urlKnownAtAbort: undefined,
    bytesSentAtAbort: undefined,
    progressReported: [],
    triggeredBy: undefined,
    settledBeforeAbort: undefined,
    abort: undefined,
    abortError: undefined,
    abortMs: undefined,
    uploadUrl: undefined,
    requests: [],
  };
  let written = 0;
  let lastProgress = 0;
  let aborting = false;
  let upload;
  let resolveRun;
  const done = new Promise((resolve) => {
    resolveRun = resolve;
  });
  let startedAt = 0;

  const doAbort = async (trigger) => {
    if (aborting) return;
    aborting = true;
    bodyWriteObserver = undefined;
    record.triggeredBy = trigger;
    record.urlKnownAtAbort = upload.url != null;
    record.requestOpenAtAbort = upload._req != null;
    record.bytesSentAtAbort = Math.max(written, lastProgress);
    record.msFromStart = round(performance.now() - startedAt);
    record.phase =
      record.settledBeforeAbort !== undefined
        ? `after-${record.settledBeforeAbort}`
        : step.kind === "creation"
          ? "creation"
          : record.urlKnownAtAbort
            ? "transfer"
            : "creation";
    const t0 = performance.now();
    try {
      await upload.abort(true);
      record.abort = "resolved";
    } catch (error) {
      record.abort = "threw";
      record.abortError = String(error?.message ?? error).slice(0, 300);
    }
    record.abortMs = round(performance.now() - t0);
    record.uploadUrl = upload.url ?? undefined;
    resolveRun();
  };

  const reached = (bytes) => step.kind === "transfer" && bytes >= step.fraction * size;

  upload = new Upload(buffer, {
    endpoint: system.endpoint,
    retryDelays: [0, 200],
    metadata,
    onBeforeRequest(req) {
      record.requests.push({ method: req.getMethod(), at: round(performance.now() - startedAt) });
    },
    onAfterResponse(req, res) {
      const entry = record.requests.findLast((r) => r.method === req.getMethod() && r.status === undefined);
      if (entry !== undefined) entry.status = res.getStatus();
    },
    onUploadUrlAvailable() {
      record.urlAvailableAtMs = round(performance.now() - startedAt);
    },
    onProgress(bytesSent) {
      lastProgress = bytesSent;
      record.progressReported.push(bytesSent);
      if (!aborting && reached(bytesSent)) void doAbort("onProgress");
    },
    onSuccess() {
      record.settledBeforeAbort = "success";
      void doAbort("settled");
    },
    onError(error) {
      record.settledBeforeAbort = "error";
      record.uploadError = String(error?.message ?? error).slice(0, 300);
      void doAbort("settled");
    },
  });

  if (abortOn === "writes" && step.kind === "transfer") {
    bodyWriteObserver = (bytes) => {
      written += bytes;
      // Synchronously, right after the write that crossed the point: the stack's write loop runs
      // without yielding while the socket takes the bytes, so a microtask would come too late.
      if (!aborting && reached(written)) void doAbort("body writes");
    };
  }
  // The delay counts from the start() call; the abort never comes in the same tick as start()
  // (waitUntil polls with setImmediate), so start()'s promise chain has sent the POST by then.
  startedAt = performance.now();
  upload.start();
  if (step.kind === "creation") {
    waitUntil(startedAt, step.delayMs).then(() => doAbort("creation delay"));
  }
  const timer = setTimeout(() => {
    record.timedOut = true;
    void doAbort("timeout");
  }, runTimeoutMs);
  await done;
  clearTimeout(timer);
  bodyWriteObserver = undefined;
  return record;
}

async function benchSystem(system) {
  const runsOut = [];
  const metricsAtStart = await scrapeMetrics(system);
  let known = new Set((await listStorage(system)).files.map((f) => f.path));
  for (const step of plan) {
    const before = await scrapeMetrics(system);
    const record = await oneRun(system, step);
    // A moment for the server to see the closed connection, then what this run changed.
    await sleep(250);
    const after = await scrapeMetrics(system);
    if (after !== undefined) {
      record.serverUploadsCreated = after.uploadRows - before.uploadRows;
      record.cancelsDuringRun = diffCounts(after.cancels, before.cancels);
    }
    const now = await listStorage(system);
    record.newFilesAfterRun = now.files.filter((f) => !known.has(f.path));
    known = new Set(now.files.map((f) => f.path));
    runsOut.push(record);
    process.stderr.write(
      `${system.name} run ${step.index}: ${record.plan} → ${record.phase}` +
        ` (url ${record.urlKnownAtAbort ? "known" : "unknown"}, ${pct(record.bytesSentAtAbort / size)} sent)` +
        ` abort ${record.abort}${record.abortError ? ` (${record.abortError.slice(0, 80)})` : ""}` +
        ` ${record.abortMs} ms; new files ${record.newFilesAfterRun.length}\n`,
    );
  }

  // Settle.
  const settleStart = performance.now();
  if (system.name === "cleancut") {
    while (performance.now() - settleStart < cleancutSettleMs) {
      const { files, uploadDirs } = await listStorage(system);
      if (files.length === 0 && uploadDirs.length === 0) break;
      await sleep(100);
    }
  } else {
    await sleep(tusServerSettleMs);
  }
  const settledAfterMs = round(performance.now() - settleStart);

  const { files, uploadDirs } = await listStorage(system);
  const leftUploads = groupByUpload(system, files);
  const metricsAtEnd = await scrapeMetrics(system);
  let serverUploads;
  if (system.name === "cleancut") {
    const listed = await fetch(`${system.url}/v1/uploads?limit=1000`).then((r) => r.json());
    serverUploads = {};
    for (const u of listed) serverUploads[u.state] = (serverUploads[u.state] ?? 0) + 1;
    const notCancelled = listed.filter((u) => u.state !== "cancelled");
    if (notCancelled.length > 0) serverUploads.notCancelled = notCancelled;
  }
  return {
    system: system.label,
    name: system.name,
    runs: runsOut,
    settledAfterMs,
    leftovers: { files, uploadDirs, uploads: leftUploads },
    metrics:
      metricsAtEnd === undefined
        ? undefined
        : {
            cancels: diffCounts(metricsAtEnd.cancels, metricsAtStart.cancels),
            uploadsByState: metricsAtEnd.uploads,
          },
    serverUploads,
  };
}

function summarize(result) {
  const r = result.runs;
  const creation = r.filter((x) => x.plan.startsWith("creation"));
  const latency = summary(r.map((x) => x.abortMs));
  const row = {
    system: result.system,
    runs: r.length,
    creationUrlKnown: creation.filter((x) => x.urlKnownAtAbort).length,
    creationUrlUnknown: creation.filter((x) => !x.urlKnownAtAbort).length,
    transfer: r.filter((x) => x.phase === "transfer").length,
    afterSettled: r.filter((x) => x.phase?.startsWith("after-")).length,
    uploadsLeft: result.leftovers.uploads.length,
    uploadsLeftWithBytes: result.leftovers.uploads.filter((u) => u.dataBytes > 0).length,
    filesLeft: result.leftovers.files.length,
    bytesLeft: result.leftovers.files.reduce((sum, f) => sum + f.bytes, 0),
    abortErrors: r.filter((x) => x.abort === "threw").length,
    abortMedianMs: latency.median,
    abortP99Ms: latency.p99,
  };
  if (result.name === "cleancut") {
    const cancels = result.metrics.cancels;
    const byReason = (reason) =>
      Object.entries(cancels)
        .filter(([k]) => k.endsWith(`/${reason}`))
        .reduce((sum, [, v]) => sum + v, 0);
    // DELETEs tus-js-client sent for uploads not already gone (a 422'd upload is cancelled already).
    const deletes = r.filter(
      (x) => x.settledBeforeAbort === undefined && x.requests.some((q) => q.method === "DELETE"),
    ).length;
    const urlUnknown = r.filter((x) => !x.urlKnownAtAbort);
    row.cleancut = {
      cancelsByOutcomeReason: cancels,
      clientCancels: byReason("client"),
      expiredCancels: byReason("expired"),
      deletesSentForLiveUploads: deletes,
      closeCancels: byReason("client") - deletes,
      urlUnknownRuns: urlUnknown.length,
      urlUnknownRunsCreatedOnServer: urlUnknown.filter((x) => x.serverUploadsCreated > 0).length,
      urlUnknownRunsClosedCancelledWithinRun: urlUnknown.filter(
        (x) => (x.cancelsDuringRun?.["verified/client"] ?? 0) > 0,
      ).length,
    };
  }
  return row;
}

function markdown(rows, results, meta) {
  const lines = [];
  lines.push("# tus-js-client `abort(true)`: what is left on the server");
  lines.push("");
  lines.push(
    `Method: tus-js-client ${meta.tusJsClient} in Node (\`new Upload(buffer)\`, retryDelays [0, 200], ` +
      `metadata filename clip.mp4 / video/mp4) uploads ${meta.runs} fresh random ${meta.sizeMiB} MiB buffers ` +
      "to each server and calls `await upload.abort(true)` at the same seeded points: ~30 % 0–3 ms after " +
      "`start()` (during the creation POST; whether the URL was already known is recorded), the rest once a " +
      "random 0–100 % of the body was sent (counted at tus-js-client's PATCH body writes and onProgress, " +
      `whichever first; --abort-on ${meta.abortOn}). An upload that settled first is aborted right after ` +
      "(cleancut refuses random bytes with 422 and deletes them). Servers run in their own process over " +
      "loopback: cleancut `serve` (disk + SQLite, `--tus-unclaimed-ttl 3`) and @tus/server 2.4.5 + " +
      "@tus/file-store 2.1.1. After the runs cleancut had up to 10 s to clean up, @tus/server 3 s; leftovers " +
      "are listed from storage (cleancut's `uploads/` and `videos/`, database files excluded; every file in " +
      "@tus/server's directory). Abort latency: `abort(true)` call to its promise settling.",
  );
  lines.push("");
  lines.push(
    `Seed ${meta.seed}, ${meta.sizeMiB} MiB, ${meta.date}, Node ${meta.node}, loadavg ${meta.loadavg.map((n) => n.toFixed(2)).join(" / ")} (at start) → ${meta.loadavgEnd.map((n) => n.toFixed(2)).join(" / ")} (at end).`,
  );
  lines.push("");
  lines.push(
    "| system | runs | aborts in creation (URL known / unknown) | in transfer | after settle | uploads left (with data bytes) | files left | bytes left | abort() errors | abort ms median / p99 |",
  );
  lines.push("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    lines.push(
      `| ${row.system} | ${row.runs} | ${row.creationUrlKnown + row.creationUrlUnknown} (${row.creationUrlKnown} / ${row.creationUrlUnknown}) | ${row.transfer} | ${row.afterSettled} | ${row.uploadsLeft} (${row.uploadsLeftWithBytes}) | ${row.filesLeft} | ${row.bytesLeft} | ${row.abortErrors} | ${row.abortMedianMs} / ${row.abortP99Ms} |`,
    );
  }
  const cc = rows.find((row) => row.cleancut)?.cleancut;
  if (cc !== undefined) {
    lines.push("");
    lines.push(
      `cleancut cancels (from \`cleancut_cancels_total\`): ${Object.entries(cc.cancelsByOutcomeReason)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ")}. Reason \`client\` counts both DELETEs and creation-close cancels: ` +
        `${cc.deletesSentForLiveUploads} DELETEs were sent for live uploads, so ${cc.closeCancels} cancel(s) came from ` +
        `the closed creation request, ${cc.expiredCancels} from the unclaimed expiry. Runs whose URL was unknown at ` +
        `abort: ${cc.urlUnknownRuns}, of which ${cc.urlUnknownRunsCreatedOnServer} had created an upload on the server ` +
        `and ${cc.urlUnknownRunsClosedCancelledWithinRun} were cancelled (client) within 250 ms of the abort.`,
    );
  }
  const cleancut = results.find((result) => result.name === "cleancut");
  const tusServer = results.find((result) => result.name !== "cleancut");
  const creationRuns = plan.filter((step) => step.kind === "creation");
  if (cleancut !== undefined && tusServer !== undefined && creationRuns.length > 0) {
    lines.push("");
    lines.push("Aborts during creation, run by run (same abort point on both):");
    lines.push("");
    lines.push(
      "| run | abort after start() | cleancut: URL known | upload created | cleaned by | @tus/server: URL known | files left |",
    );
    lines.push("| ---: | ---: | --- | --- | --- | --- | ---: |");
    for (const step of creationRuns) {
      const c = cleancut.runs[step.index];
      const t = tusServer.runs[step.index];
      const created = c.serverUploadsCreated > 0;
      const cleanedBy = !created
        ? "nothing to clean"
        : c.urlKnownAtAbort
          ? "DELETE"
          : (c.cancelsDuringRun?.["verified/client"] ?? 0) > 0
            ? "creation-close cancel"
            : "later (unclaimed expiry)";
      const tusLeft = tusServer.leftovers.files.filter((f) =>
        t.newFilesAfterRun.some((n) => n.path === f.path),
      ).length;
      lines.push(
        `| ${step.index} | ${step.delayMs} ms | ${c.urlKnownAtAbort ? "yes" : "no"} | ${created ? "yes" : "no"} | ${cleanedBy} | ${t.urlKnownAtAbort ? "yes" : "no"} | ${tusLeft} |`,
      );
    }
  }
  for (const result of results) {
    if (result.leftovers.files.length === 0) continue;
    lines.push("");
    lines.push(`Left on ${result.system}:`);
    lines.push("");
    for (const file of result.leftovers.files) {
      const run = result.runs.find((x) => x.newFilesAfterRun.some((f) => f.path === file.path));
      lines.push(
        `- \`${file.path}\` ${file.bytes} B${run ? ` — run ${run.run} (${run.plan}, phase ${run.phase}, URL ${run.urlKnownAtAbort ? "known" : "unknown"})` : ""}`,
      );
    }
  }
  lines.push("");
  return lines.join("\n");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
function round(value, digits = 2) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
function pct(fraction) {
  return `${(fraction * 100).toFixed(1)} %`;
}

// --- main
const meta = {
  seed,
  runs,
  sizeMiB,
  abortOn,
  date: new Date().toISOString(),
  node: process.version,
  loadavg: loadavg(),
  tusJsClient: "4.3.1",
  command: `node bench/tus-abort.mjs --runs ${runs} --seed ${seed} --size-mib ${sizeMiB} --abort-on ${abortOn}`,
};
process.stderr.write(`${meta.command}\n`);
const results = [];
const tmpDirs = [];
let failure;
for (const start of [startCleancut, startTusServer]) {
  let system;
  try {
    system = await start();
    tmpDirs.push(system.tmpDir);
    results.push(await benchSystem(system));
  } catch (error) {
    failure = error;
  } finally {
    await system?.stop().catch(() => undefined);
  }
  if (failure) break;
}
try {
  if (failure) throw failure;
  meta.loadavgEnd = loadavg();
  const rows = results.map(summarize);
  const md = markdown(rows, results, meta);
  process.stdout.write(md);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, "tus-abort.md"), md);
  await writeFile(
    join(resultsDir, "tus-abort.json"),
    `${JSON.stringify({ meta, plan, summary: rows, results }, null, 2)}\n`,
  );
} finally {
  for (const dir of tmpDirs) await rm(dir, { recursive: true, force: true });
}
