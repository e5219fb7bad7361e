// Webhook delivery: how long from a state change to the receiver, and how many events per
// second the dispatcher delivers with 200 uploads at once. The server runs in its own process
// (`cleancut serve --webhook-url …`), on SQLite (and on PostgreSQL unless WEBHOOK_BENCH_POSTGRES=0);
// the receiver is a node:http server in this process, over loopback.
//
// Latency is measured two ways: from the event's own timestamp (taken in the committing
// transaction; same machine, same clock) and from when the client got the answer to the call
// that made the change (the DELETE or POST returned). Target: p99 < 100 ms.

import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { performance } from "node:perf_hooks";
import { createBenchDatabase } from "./lib/postgres-db.mjs";
import { startServerProcess } from "./lib/server-process.mjs";
import { summary } from "./lib/stats.mjs";

const sequential = Number(process.env.RUNS ?? 100);
const concurrent = Number(process.env.CONCURRENT ?? 200);
const secret = `whsec_${randomBytes(32).toString("base64")}`;

/** Arrival time (Date.now(), ms) of each event id, and waiters for a given count. */
const arrivals = new Map();
let waiters = [];
const receiver = createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const at = Date.now();
    const event = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    if (!arrivals.has(event.id)) arrivals.set(event.id, { at, event });
    response.writeHead(204).end();
    waiters = waiters.filter((waiter) => !waiter());
  });
});
await new Promise((resolve) => receiver.listen(0, "127.0.0.1", resolve));
const hookUrl = `http://127.0.0.1:${receiver.address().port}/hooks`;

function eventsFor(uploadId) {
  return [...arrivals.values()].filter((arrival) => arrival.event.data.uploadId === uploadId);
}

/** Resolves once `count` events of `uploadId` arrived (or all uploads' events, with `check`). */
function until(check, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    if (check()) return resolve();
    const timer = setTimeout(() => reject(new Error("timed out waiting for webhooks")), timeoutMs);
    waiters.push(() => {
      if (!check()) return false;
      clearTimeout(timer);
      resolve();
      return true;
    });
  });
}

async function call(base, method, path, { token, json } = {}) {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(json ? { "content-type": "application/json" } : {}),
    },
    body: json ? JSON.stringify(json) : undefined,
  });
  const body = await response.json();
  if (response.status >= 300)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const create = (base) =>
  call(base, "POST", "/v1/uploads", {
    json: { filename: "bench.mp4", size: 1024, contentType: "video/mp4" },
  });

async function runOn(label, extraArgs) {
  const server = await startServerProcess([
    "--webhook-url",
    hookUrl,
    "--webhook-secret",
    secret,
    "--no-ffprobe",
    ...extraArgs,
  ]);
  try {
    // Warm-up: connections, prepared statements, JIT.
    for (let i = 0; i < 10; i++) {
      const upload = await create(server.url);
      await call(server.url, "DELETE", `/v1/uploads/${upload.id}`, { token: upload.token });
      await until(() => eventsFor(upload.id).length === 2);
    }

    const fromCommit = [];
    const fromReturn = [];
    for (let i = 0; i < sequential; i++) {
      const upload = await create(server.url);
      const createdReturned = Date.now();
      await until(() => eventsFor(upload.id).length === 1);
      await call(server.url, "DELETE", `/v1/uploads/${upload.id}`, { token: upload.token });
      const cancelReturned = Date.now();
      await until(() => eventsFor(upload.id).length === 2);
      for (const { at, event } of eventsFor(upload.id)) {
        fromCommit.push(at - Date.parse(event.timestamp));
        fromReturn.push(at - (event.type === "upload.created" ? createdReturned : cancelReturned));
      }
    }

    const started = performance.now();
    const uploads = await Promise.all(
      Array.from({ length: concurrent }, async () => {
        const upload = await create(server.url);
        await call(server.url, "DELETE", `/v1/uploads/${upload.id}`, { token: upload.token });
        return upload;
      }),
    );
    const changesDone = performance.now();
    await until(() => uploads.every((upload) => eventsFor(upload.id).length === 2));
    const seconds = (performance.now() - started) / 1000;
    const underLoad = uploads.flatMap((upload) =>
      eventsFor(upload.id).map(({ at, event }) => at - Date.parse(event.timestamp)),
    );
    const inOrder = uploads.every((upload) => {
      const types = eventsFor(upload.id).map(({ event }) => event.type);
      return types[0] === "upload.created" && types[1] === "upload.cancelled";
    });

    const line = (name, s) =>
      `  ${name.padEnd(44)} p50 ${String(s.median).padStart(6)} ms   p99 ${String(s.p99).padStart(6)} ms   max ${String(s.max).padStart(6)} ms   (n=${s.n})`;
    console.log(`\n${label}`);
    console.log(line("state change committed -> receiver", summary(fromCommit)));
    console.log(line("API call returned -> receiver", summary(fromReturn)));
    console.log(
      `  ${concurrent} uploads at once (create + cancel): ${concurrent * 2} events in ${seconds.toFixed(2)} s = ${Math.round((concurrent * 2) / seconds)} events/s` +
        ` (changes themselves took ${((changesDone - started) / 1000).toFixed(2)} s); in order per upload: ${inOrder ? "yes" : "NO"}`,
    );
    console.log(line("under that load: committed -> receiver", summary(underLoad)));
  } finally {
    await server.stop();
  }
  await drainBacklog(extraArgs);
}

/**
 * The dispatcher's own pace, apart from how fast the server makes changes: 200 uploads are
 * created and cancelled on a server without webhooks (their events wait in the outbox), then a
 * server with webhooks starts on the same data and delivers the backlog.
 */
async function drainBacklog(extraArgs) {
  const quiet = await startServerProcess(["--no-ffprobe", ...extraArgs]);
  let uploads;
  try {
    uploads = await Promise.all(
      Array.from({ length: concurrent }, async () => {
        const upload = await create(quiet.url);
        await call(quiet.url, "DELETE", `/v1/uploads/${upload.id}`, { token: upload.token });
        return upload;
      }),
    );
  } finally {
    await quiet.stop();
  }
  const server = await startServerProcess([
    "--webhook-url",
    hookUrl,
    "--webhook-secret",
    secret,
    "--no-ffprobe",
    ...extraArgs,
    "--data-dir",
    quiet.dataDir,
  ]);
  try {
    await until(() => uploads.every((upload) => eventsFor(upload.id).length === 2));
    const times = uploads.flatMap((upload) => eventsFor(upload.id).map(({ at }) => at));
    const seconds = (Math.max(...times) - Math.min(...times)) / 1000;
    console.log(
      `  backlog of ${times.length} events delivered by a starting server: ${seconds.toFixed(2)} s first to last = ${Math.round((times.length - 1) / seconds)} events/s`,
    );
  } finally {
    await server.stop();
  }
}

console.log(
  `webhook delivery, ${sequential} sequential create+cancel pairs, then ${concurrent} at once (Node ${process.version})`,
);
await runOn("SQLite", []);
if (process.env.WEBHOOK_BENCH_POSTGRES !== "0") {
  const database = await createBenchDatabase();
  try {
    await runOn("PostgreSQL", ["--database", database.url]);
  } finally {
    await database.drop();
  }
}
receiver.closeAllConnections();
receiver.close();
