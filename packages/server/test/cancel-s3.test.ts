import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, sha256Hex } from "./support/api.js";
import type { TestServer } from "./support/harness.js";
import { type ProductionTestServer, startProductionTestServer } from "./support/production-server.js";

const MiB = 1024 * 1024;
const segmentSize = 5 * MiB;
let production: ProductionTestServer;
let t: TestServer;
let api: Api;

/**
 * The production setup: S3-compatible store (real Swift) and PostgreSQL, over real HTTP. The
 * cancel scenarios run on it in cancel.test.ts (proxied and direct).
 */
beforeAll(async () => {
  production = await startProductionTestServer("e2e");
  t = production.server;
  api = new Api(t.url);
});
afterAll(async () => {
  await production?.close();
});

describe("S3 store + PostgreSQL, end to end", () => {
  it("uploads a real video as multipart parts and completes it in the store", async () => {
    const file = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
    const upload = await api.create(file.length, segmentSize);
    expect((await api.putSegment(upload, 0, file)).status).toBe(201);
    expect((await api.segments(upload)).body).toEqual([
      { index: 0, size: file.length, sha256: sha256Hex(file) },
    ]);
    const done = await api.complete(upload);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      size: file.length,
      sha256: sha256Hex(file),
      probe: { width: 640, height: 360 },
    });
    const content = await fetch(`${t.url}/v1/videos/${done.body.videoId}/content`, {
      headers: { range: "bytes=0-99" },
    });
    expect(content.status).toBe(206);
    expect(Buffer.from(await content.arrayBuffer()).equals(file.subarray(0, 100))).toBe(true);
    expect(
      (await api.call("DELETE", `/v1/videos/${done.body.videoId}`, { token: upload.token })).status,
    ).toBe(204);
  });

  it("refuses segments smaller than S3 allows", async () => {
    const response = await api.call("POST", "/v1/uploads", {
      json: { filename: "a.mp4", size: 20 * MiB, contentType: "video/mp4", segmentSize: MiB },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_segment_size");
  });
});
