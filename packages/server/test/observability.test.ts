import { rm } from "node:fs/promises";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { CreateUploadResponse } from "@cleancut/core";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { waitFor } from "./support/wait.js";

const KiB = 1024;
const segmentSize = 64 * KiB;

let servers: TestServer[] = [];
afterEach(async () => {
  for (const t of servers) {
    await t.close();
    await removeDir(t.dataDir);
  }
  servers = [];
});

async function start(
  options: Parameters<typeof startTestServer>[0] = {},
): Promise<{ t: TestServer; api: Api }> {
  const t = await startTestServer(options);
  servers.push(t);
  return { t, api: new Api(t.url) };
}

/** The value of the one sample `name{labels}` in a Prometheus text page, or undefined if absent. */
function sample(page: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of page.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match === null || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    const wanted = Object.entries(labels);
    if (Object.keys(found).length === wanted.length && wanted.every(([k, v]) => found[k] === v)) {
      return Number(match[3]);
    }
  }
  return undefined;
}

async function scrape(api: Api): Promise<string> {
  const response = await api.call<string>("GET", "/metrics");
  expect(response.status).toBe(200);
  return response.body;
}

/** Creates an upload of 2 segments (64 KiB + 16 KiB) and stores both; returns it with its byte count. */
async function uploadTwoSegments(api: Api): Promise<{ upload: CreateUploadResponse; bytes: number }> {
  const file = randomFile(segmentSize + 16 * KiB);
  const upload = await api.create(file.length, segmentSize);
  expect(upload.segmentCount).toBe(2);
  for (const index of [0, 1]) {
    const put = await api.putSegment(upload, index, sliceSegment(file, segmentSize, index));
    expect(put.status).toBe(201);
  }
  return { upload, bytes: file.length };
}

describe("GET /metrics", () => {
  it("counts bytes in, a verified cancel, its latency and the uploads by state", async () => {
    const { api } = await start();
    const before = await scrape(api);
    expect(sample(before, "cleancut_segment_bytes_received_total")).toBe(0);
    expect(sample(before, "cleancut_uploads", { state: "cancelled" })).toBe(0);

    const { upload, bytes } = await uploadTwoSegments(api);
    const other = await api.create(10 * KiB, segmentSize);
    expect((await api.cancel(upload)).status).toBe(200);

    const response = await api.call<string>("GET", "/metrics");
    expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const page = response.body;
    expect(sample(page, "cleancut_segment_bytes_received_total")).toBe(bytes);
    expect(sample(page, "cleancut_cancels_total", { outcome: "verified", reason: "client" })).toBe(1);
    expect(
      sample(page, "cleancut_cancels_total", { outcome: "unverified", reason: "client" }),
    ).toBeUndefined();
    expect(sample(page, "cleancut_cancel_to_verified_seconds_count")).toBe(1);
    expect(sample(page, "cleancut_cancel_to_verified_seconds_bucket", { le: "30" })).toBe(1);
    expect(sample(page, "cleancut_cancel_to_verified_seconds_sum")).toBeGreaterThan(0);
    expect(sample(page, "cleancut_uploads", { state: "cancelled" })).toBe(1);
    expect(sample(page, "cleancut_uploads", { state: "uploading" })).toBe(1);
    expect(sample(page, "cleancut_cleanup_retries_total")).toBe(0);
    expect(sample(page, "cleancut_leftover_check_failures_total")).toBe(0);
    // prom-client's process metrics, on this server's own registry.
    expect(sample(page, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(other.id).not.toBe(upload.id);
  });

  it("keeps each server's counts apart (one registry per instance)", async () => {
    const a = await start();
    const b = await start();
    const { bytes } = await uploadTwoSegments(a.api);
    expect(sample(await scrape(a.api), "cleancut_segment_bytes_received_total")).toBe(bytes);
    expect(sample(await scrape(b.api), "cleancut_segment_bytes_received_total")).toBe(0);
  });

  it("counts an unverified cancel, its leftovers and retries, then its verification", async () => {
    const { t, api } = await start();
    const { upload } = await uploadTwoSegments(api);
    t.faults.inject("deleteSegment", { kind: "fail", times: Number.POSITIVE_INFINITY });
    const cancelled = await api.cancel(upload);
    expect(cancelled.status).toBe(202);

    const unverified = await scrape(api);
    expect(sample(unverified, "cleancut_cancels_total", { outcome: "unverified", reason: "client" })).toBe(1);
    expect(
      sample(unverified, "cleancut_cancels_total", { outcome: "verified", reason: "client" }),
    ).toBeUndefined();
    expect(sample(unverified, "cleancut_leftover_check_failures_total")).toBeGreaterThanOrEqual(1);
    expect(sample(unverified, "cleancut_cleanup_retries_total")).toBeGreaterThanOrEqual(1);
    expect(sample(unverified, "cleancut_cancel_to_verified_seconds_count")).toBe(0);

    t.faults.clear();
    await waitFor(async () => (await api.status(upload)).body.state === "cancelled", "the retried cleanup");
    const verified = await scrape(api);
    expect(sample(verified, "cleancut_cancel_to_verified_seconds_count")).toBe(1);
    expect(sample(verified, "cleancut_uploads", { state: "cancelled" })).toBe(1);
    // Still counted once, as what its first attempt told the client.
    expect(sample(verified, "cleancut_cancels_total", { outcome: "unverified", reason: "client" })).toBe(1);
    expect(
      sample(verified, "cleancut_cancels_total", { outcome: "verified", reason: "client" }),
    ).toBeUndefined();
  });
});

describe("GET /healthz and /readyz", () => {
  it("are 200 while the database and the data folder answer", async () => {
    const { api } = await start();
    const health = await api.call("GET", "/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ status: "ok" });
    const ready = await api.call("GET", "/readyz");
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: "ok", checks: { database: "ok", store: "ok" } });
  });

  it("/readyz is 503 once the repository is closed; /healthz stays 200", async () => {
    const { t, api } = await start();
    await t.server.repository.close();
    const ready = await api.call("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: "unavailable", checks: { database: "failed", store: "ok" } });
    expect((await api.call("GET", "/healthz")).status).toBe(200);
    // Metrics still answer, without stale upload counts.
    const page = await scrape(api);
    expect(sample(page, "cleancut_uploads", { state: "uploading" })).toBeUndefined();
  });

  it("/readyz is 503 once the data folder's uploads/ is gone", async () => {
    const { t, api } = await start();
    await rm(join(t.dataDir, "uploads"), { recursive: true, force: true });
    const ready = await api.call("GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: "unavailable", checks: { database: "ok", store: "failed" } });
  });

  it("are not in the OpenAPI document", async () => {
    const { api } = await start();
    const spec = await api.call<{ paths: Record<string, unknown> }>("GET", "/openapi.json");
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toContain("/v1/uploads/{id}");
    for (const path of ["/metrics", "/healthz", "/readyz"]) expect(spec.body.paths).not.toHaveProperty(path);
  });
});

describe("logs", () => {
  it("every line about an upload carries its uploadId, request errors included", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n")) if (line !== "") lines.push(JSON.parse(line));
        done();
      },
    });
    const { api } = await start({ logger: pino({ level: "info" }, sink) });
    const { upload } = await uploadTwoSegments(api);
    // Out of range: logged by the error handler, which knows nothing of uploads itself.
    expect((await api.putSegment(upload, 7, new Uint8Array(10))).status).toBe(400);
    expect((await api.cancel(upload)).status).toBe(200);

    const about = lines.filter((line) => JSON.stringify(line).includes(upload.id));
    const messages = about.map((line) => line.msg);
    expect(messages).toEqual(
      expect.arrayContaining([
        "upload created",
        "upload tombstoned; aborting transfers",
        "upload cleanup verified",
      ]),
    );
    // The error handler's line: its message says "out of range", not the id; only the binding adds it.
    const errorLine = lines.find((line) => String(line.msg).includes("is out of range"));
    expect(errorLine, JSON.stringify(lines)).toBeDefined();
    expect(errorLine?.uploadId).toBe(upload.id);
    for (const line of about) expect(line.uploadId, JSON.stringify(line)).toBe(upload.id);
  });
});
