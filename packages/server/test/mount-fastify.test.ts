import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UploadEvent } from "@cleancut/core";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../../client/test/support.js";
import { type Cleancut, cleancut, createCleancut } from "../src/index.js";
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

/** A host app with its own routes, parser, error and not-found handlers; cleancut at /uploads. */
async function hostApp(
  register: (app: FastifyInstance) => Promise<void>,
): Promise<{ app: FastifyInstance; origin: string }> {
  // Cut keep-alive and half-sent connections on close (a client that abandoned a request
  // mid-way after a cancel would otherwise hold close() until Node's headers timeout).
  const app = Fastify({ forceCloseConnections: true });
  app.setErrorHandler((_error, _request, reply) => reply.code(500).send({ host: "error" }));
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ host: "not found" }));
  app.get("/health", async () => ({ host: "ok" }));
  app.post("/echo", async (request) => ({ echoed: request.body }));
  app.get("/boom", async () => {
    throw new Error("host route failed");
  });
  await register(app);
  const origin = await app.listen({ host: "127.0.0.1", port: 0 });
  return { app, origin };
}

describe("cleancut as a Fastify plugin at /uploads", () => {
  let dataDir: string;
  let host: { app: FastifyInstance; origin: string };
  const events: UploadEvent[] = [];
  let m: Mounted;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cleancut-mount-fastify-"));
    host = await hostApp(async (app) => {
      await app.register(cleancut, {
        prefix: "/uploads",
        ...testOptions,
        dataDir,
        on: {
          "upload.created": (event) => {
            events.push(event);
          },
          "upload.completed": (event) => {
            events.push(event);
          },
          "upload.cancelled": (event) => {
            events.push(event);
          },
        },
      });
    });
    m = { base: `${host.origin}/uploads`, dataDir, events };
  });

  afterAll(async () => {
    await host.app.close();
    await removeDir(dataDir);
  });

  it("leaves the host's routes, parsers, error and not-found handlers alone", async () => {
    expect(await (await fetch(`${host.origin}/health`)).json()).toEqual({ host: "ok" });
    const echo = await fetch(`${host.origin}/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await echo.json()).toEqual({ echoed: { a: 1 } });
    const boom = await fetch(`${host.origin}/boom`);
    expect([boom.status, await boom.json()]).toEqual([500, { host: "error" }]);
    const missing = await fetch(`${host.origin}/nowhere`);
    expect([missing.status, await missing.json()]).toEqual([404, { host: "not found" }]);
    // Inside the prefix, cleancut's own error shapes.
    const inside = await fetch(`${m.base}/nowhere`);
    expect(inside.status).toBe(404);
    expect(await inside.json()).toMatchObject({ error: { code: "route_not_found" } });
    const spec = await fetch(`${m.base}/openapi.json`);
    expect(Object.keys(((await spec.json()) as { paths: object }).paths)).toContain("/uploads/v1/uploads");
  });

  it("hands out URLs under the prefix", async () => {
    const upload = await createRawUpload(m, 1);
    expect(upload.location).toBe(`/uploads/v1/uploads/${upload.id}`);
  });

  it("uploads a video with the Node SDK, byte-identical, with its events", () => sdkUploadCompletes(m));

  it("cancels mid-upload: verified, nothing left in storage, upload.cancelled heard", () =>
    sdkCancelLeavesNothing(m));

  it("takes a tus upload through the prefix", () => tusUploadCompletes(m, "/uploads"));
});

describe("closing a Fastify host with cleancut registered", () => {
  it("lets a segment PUT in flight finish, refuses new requests meanwhile, then closes", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cleancut-mount-fastify-close-"));
    const instance: Cleancut = await createCleancut({ ...testOptions, dataDir });
    const host = await hostApp(async (app) => {
      await app.register(cleancut, { prefix: "/uploads", cleancut: instance });
    });
    const m: Mounted = { base: `${host.origin}/uploads`, dataDir, events: [] };
    try {
      const upload = await createRawUpload(m, 2);
      const put = await heldSegmentPut(m, upload);
      await waitUntil(() => instance.inflight.count(upload.id) === 1, "the segment write to start");
      const closed = host.app.close();
      await waitUntil(() => !instance.accepting, "cleancut to start draining");
      put.finish();
      expect(await put.outcome).toEqual({ kind: "response", status: 201 });
      await closed;
      await expectNoPartialFiles(dataDir);
      // Closed for good: the database is closed too (a second close is the same promise).
      await instance.close();
    } finally {
      await host.app.close();
      await removeDir(dataDir);
    }
  });
});
