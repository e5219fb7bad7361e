import { mkdtemp } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UploadEvent } from "@cleancut/core";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../../client/test/support.js";
import { type CleancutHandler, cleancutHandler } from "../src/index.js";
import { removeDir } from "./support/harness.js";
import {
  createRawUpload,
  expectNoPartialFiles,
  heldSegmentPut,
  type Mounted,
  sdkCancelLeavesNothing,
  sdkUploadCompletes,
  tusUploadCompletes,
} from "./support/mount-flows.js";

const testOptions = {
  logLevel: "silent",
  sweepIntervalMs: 50,
  cleanupRetry: { baseMs: 20, maxMs: 200 },
  webRoot: false,
} as const;

/** An Express 5 host with its own routes and handlers; cleancut mounted at /uploads. */
async function expressHost(handler: CleancutHandler): Promise<{ server: Server; origin: string }> {
  const app = express();
  app.get("/health", (_req, res) => {
    res.json({ host: "ok" });
  });
  app.use("/uploads", handler);
  // Body parsers after the mount: cleancut's segment bodies stream untouched.
  app.use(express.json());
  app.post("/echo", (req, res) => {
    res.json({ echoed: req.body });
  });
  app.use((_req: express.Request, res: express.Response) => {
    res.status(404).json({ host: "not found" });
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const address = server.address() as { port: number };
  return { server, origin: `http://127.0.0.1:${address.port}` };
}

async function closeHost(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("cleancut as a Node handler in Express 5 at /uploads", () => {
  let dataDir: string;
  let handler: CleancutHandler;
  let host: { server: Server; origin: string };
  const events: UploadEvent[] = [];
  let m: Mounted;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cleancut-mount-express-"));
    handler = await cleancutHandler({ ...testOptions, dataDir });
    for (const type of ["upload.created", "upload.completed", "upload.cancelled"] as const) {
      handler.on(type, (event) => {
        events.push(event);
      });
    }
    host = await expressHost(handler);
    m = { base: `${host.origin}/uploads`, dataDir, events };
  });

  afterAll(async () => {
    await handler.close();
    await closeHost(host.server);
    await removeDir(dataDir);
  });

  it("leaves the host's routes, body parser and 404 alone", async () => {
    expect(await (await fetch(`${host.origin}/health`)).json()).toEqual({ host: "ok" });
    const echo = await fetch(`${host.origin}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await echo.json()).toEqual({ echoed: { a: 1 } });
    const missing = await fetch(`${host.origin}/nowhere`);
    expect([missing.status, await missing.json()]).toEqual([404, { host: "not found" }]);
    const inside = await fetch(`${m.base}/nowhere`);
    expect(inside.status).toBe(404);
    expect(await inside.json()).toMatchObject({ error: { code: "route_not_found" } });
  });

  it("hands out URLs with the mount path Express stripped", async () => {
    const upload = await createRawUpload(m, 1);
    expect(upload.location).toBe(`/uploads/v1/uploads/${upload.id}`);
  });

  it("uploads a video with the Node SDK, byte-identical, with its events", () => sdkUploadCompletes(m));

  it("cancels mid-upload: verified, nothing left in storage, upload.cancelled heard", () =>
    sdkCancelLeavesNothing(m));

  it("takes a tus upload through the mount", () => tusUploadCompletes(m, "/uploads"));
});

describe("closing the Express handler", () => {
  it("cuts off a segment PUT still in flight after the timeout, leaves no temp file, and the host keeps serving", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cleancut-mount-express-close-"));
    const handler = await cleancutHandler({ ...testOptions, dataDir, closeTimeoutMs: 200 });
    const host = await expressHost(handler);
    const m: Mounted = { base: `${host.origin}/uploads`, dataDir, events: [] };
    try {
      const upload = await createRawUpload(m, 2);
      const put = await heldSegmentPut(m, upload);
      await waitUntil(() => handler.cleancut.inflight.count(upload.id) === 1, "the segment write to start");
      // The PUT never sends its second half: close() waits 200 ms, then aborts the write.
      await handler.close();
      const outcome = await put.outcome;
      if (outcome.kind === "response") expect(outcome.status).toBe(503);
      await expectNoPartialFiles(dataDir);
      expect(await (await fetch(`${host.origin}/health`)).json()).toEqual({ host: "ok" });
      const refused = await fetch(`${m.base}/v1/uploads/${upload.id}`, {
        headers: { authorization: `Bearer ${upload.token}` },
      });
      expect(refused.status).toBe(503);
    } finally {
      await handler.close();
      await closeHost(host.server);
      await removeDir(dataDir);
    }
  });
});

describe("cleancut as the handler of a plain node:http server, routes under a prefix", () => {
  it("serves the SDK and tus under the prefix it is given, and answers its own 404 outside", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cleancut-mount-node-"));
    const events: UploadEvent[] = [];
    const handler = await cleancutHandler({ ...testOptions, dataDir, prefix: "/media/" });
    handler.on("upload.completed", (event) => {
      events.push(event);
    });
    handler.on("upload.created", (event) => {
      events.push(event);
    });
    const server = createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const m: Mounted = { base: `${origin}/media`, dataDir, events };
      await sdkUploadCompletes(m);
      await tusUploadCompletes(m, "/media");
      const outside = await fetch(`${origin}/v1/uploads`, { method: "POST" });
      expect(outside.status).toBe(404);
      expect((await outside.json()).error.code).toBe("route_not_found");
    } finally {
      await handler.close();
      await closeHost(server);
      await removeDir(dataDir);
    }
  });
});
