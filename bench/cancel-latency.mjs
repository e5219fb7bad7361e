// Cancel-to-verified latency: 50 cancels, each with 2 segments stored and 4 segment PUTs
// still streaming into the server (slow senders). Server in its own process, over loopback.
// Prints the client-observed DELETE time and the server's own durationMs, median / p99 / worst,
// and checks after every cancel that the report is verified and the data folder holds nothing.

import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { startServerProcess } from "./lib/server-process.mjs";
import { summary } from "./lib/stats.mjs";

const runs = Number(process.env.RUNS ?? 50);
const segmentSize = 1024 * 1024;
const server = await startServerProcess();

async function call(method, path, { token, json } = {}) {
  const response = await fetch(new URL(path, server.url), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(json ? { "content-type": "application/json" } : {}),
    },
    body: json ? JSON.stringify(json) : undefined,
  });
  return { status: response.status, body: await response.json() };
}

function slowPut(upload, index) {
  const req = request(new URL(`/v1/uploads/${upload.id}/segments/${index}`, server.url), {
    method: "PUT",
    headers: { authorization: `Bearer ${upload.token}`, "content-length": String(segmentSize) },
  });
  let sent = 0;
  let timer;
  const chunk = Buffer.alloc(16 * 1024, 7);
  const ended = new Promise((resolve) => {
    req.on("response", (res) => {
      res.resume();
      res.on("end", resolve);
      res.on("error", resolve);
    });
    req.on("error", resolve);
  });
  const pump = () => {
    if (req.destroyed || sent >= segmentSize) return;
    req.write(chunk);
    sent += chunk.length;
    timer = setTimeout(pump, 5);
  };
  pump();
  return {
    sentAtLeast: (n) => sent >= n,
    ended,
    stop: () => {
      clearTimeout(timer);
      req.destroy();
    },
  };
}

const client = [];
const serverSide = [];
let leftoverFiles = 0;
let unverified = 0;
const aborted = [];
for (let run = 0; run < runs; run++) {
  const created = await call("POST", "/v1/uploads", {
    json: { filename: "bench.mp4", size: 8 * segmentSize, contentType: "video/mp4", segmentSize },
  });
  const upload = created.body;
  for (const index of [0, 1]) {
    await fetch(new URL(`/v1/uploads/${upload.id}/segments/${index}`, server.url), {
      method: "PUT",
      headers: { authorization: `Bearer ${upload.token}` },
      body: Buffer.alloc(segmentSize, index),
    });
  }
  const senders = [2, 3, 4, 5].map((index) => slowPut(upload, index));
  while (!senders.every((sender) => sender.sentAtLeast(128 * 1024)))
    await new Promise((r) => setTimeout(r, 2));
  const started = performance.now();
  const cancelled = await call("DELETE", `/v1/uploads/${upload.id}`, { token: upload.token });
  client.push(performance.now() - started);
  serverSide.push(cancelled.body.durationMs);
  aborted.push(cancelled.body.abortedTransfers);
  if (cancelled.status !== 200 || !cancelled.body.verified) unverified += 1;
  await Promise.all(senders.map((sender) => sender.ended));
  for (const sender of senders) sender.stop();
  leftoverFiles += (await readdir(join(server.dataDir, "uploads"), { recursive: true })).length;
}
await server.stop();
await rm(server.dataDir, { recursive: true, force: true });

const result = {
  benchmark: "cancel-to-verified, 2 segments stored + 4 PUTs in flight, 1 MiB segments, disk store",
  runs,
  clientObservedMs: summary(client),
  serverDurationMs: summary(serverSide),
  unverified,
  leftoverFiles,
  abortedTransfersPerCancel: summary(aborted),
  node: process.version,
  date: new Date().toISOString(),
};
await mkdir(new URL("./results/", import.meta.url), { recursive: true });
await writeFile(
  new URL("./results/cancel-latency.json", import.meta.url),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(`cancel-to-verified over ${runs} cancels (4 segment PUTs in flight each)`);
console.log("| measure | median ms | p99 ms | worst ms |");
console.log("| --- | --- | --- | --- |");
console.log(
  `| client-observed DELETE | ${result.clientObservedMs.median} | ${result.clientObservedMs.p99} | ${result.clientObservedMs.max} |`,
);
console.log(
  `| server durationMs | ${result.serverDurationMs.median} | ${result.serverDurationMs.p99} | ${result.serverDurationMs.max} |`,
);
console.log(
  `in-flight PUTs cut off per cancel: min ${result.abortedTransfersPerCancel.min}, median ${result.abortedTransfersPerCancel.median}`,
);
console.log(`unverified reports: ${unverified}; files left under uploads/: ${leftoverFiles}`);
if (unverified > 0 || leftoverFiles > 0) process.exitCode = 1;
