import { Readable } from "node:stream";
import { UploadCancelledError } from "@cleancut/core";
import { request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ProductionTestServer,
  startProductionTestServer,
} from "../../server/test/support/production-server.js";
import {
  ApiClient,
  createUpload,
  type HttpRequest,
  type HttpResponse,
  type HttpTransport,
  NodeFileSource,
  UndiciTransport,
} from "../src/node/index.js";
import {
  RecordingTransport,
  randomFile,
  sha256Hex,
  type TestServer,
  testVideo,
  waitUntil,
} from "./support.js";

const MiB = 1024 * 1024;
const segmentSize = 5 * MiB;
let production: ProductionTestServer;
let t: TestServer;
let s3Origin: string;

beforeAll(async () => {
  production = await startProductionTestServer("cdirect");
  t = production.server;
  s3Origin = production.bucket.origin;
});
afterAll(async () => {
  await production?.close();
});

const expectNothingInBucket = (uploadId: string) => production.bucket.expectNothingFor(uploadId);

/**
 * A real network transport whose PUTs to S3 trickle their body (64 KiB every 10 ms), so a
 * cancel finds them in flight; everything else goes through undici as usual.
 */
class SlowStorageTransport implements HttpTransport {
  readonly inner = new UndiciTransport();
  storagePuts = { started: 0, inFlight: 0, aborted: 0 };

  async request(request: HttpRequest): Promise<HttpResponse> {
    if (request.method !== "PUT" || !request.url.startsWith(s3Origin) || request.body === undefined)
      return this.inner.request(request);
    const body = request.body;
    const counts = this.storagePuts;
    counts.started += 1;
    counts.inFlight += 1;
    async function* trickle() {
      for (let offset = 0; offset < body.length; offset += 64 * 1024) {
        yield body.subarray(offset, offset + 64 * 1024);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    try {
      const response = await undiciRequest(request.url, {
        method: "PUT",
        headers: { ...request.headers, "content-length": String(body.length) },
        body: Readable.from(trickle()),
        signal: request.signal,
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: {}, text: () => Promise.resolve(text) };
    } catch (error) {
      if (request.signal.aborted) counts.aborted += 1;
      throw error;
    } finally {
      counts.inFlight -= 1;
    }
  }
}

describe("client direct mode (bytes straight to S3)", () => {
  it("uploads a real video directly to S3 with the right SHA-256; the server receives no segment bytes", async () => {
    const transport = new RecordingTransport();
    const source = await NodeFileSource.open(testVideo());
    const file = await source.read(0, source.size, new AbortController().signal);
    const expected = sha256Hex(file);
    const writes = t.faults.calls("writeSegment");
    const upload = createUpload(source, { endpoint: t.url, mode: "direct", transport }).start();
    const video = await upload.done;
    expect(video).toMatchObject({ size: source.size, sha256: expected });
    expect(upload.state).toBe("completed");
    expect(t.faults.calls("writeSegment")).toBe(writes);
    // The segment went to S3, never to the server.
    expect(transport.sent.filter((r) => r.method === "PUT" && r.url.startsWith(t.url))).toEqual([]);
    expect(transport.sent.filter((r) => r.method === "PUT" && r.url.startsWith(s3Origin))).toHaveLength(1);
    expect(transport.count("POST", "/presign")).toBe(1);
    expect(transport.count("POST", "/confirm")).toBe(1);
    expect(upload.activeRequests).toBe(0);
    const api = new ApiClient(new UndiciTransport(), t.url);
    await api.deleteVideo(
      { id: upload.id as string, token: upload.token as string },
      video.videoId,
      new AbortController().signal,
    );
    await expectNothingInBucket(upload.id as string);
  });

  it("cancel mid-way with parts in flight to S3: PUTs aborted, verified report, nothing in the bucket, no request open", async () => {
    const { path } = await randomFile(6 * segmentSize);
    const transport = new SlowStorageTransport();
    const writes = t.faults.calls("writeSegment");
    const upload = createUpload(await NodeFileSource.open(path), {
      endpoint: t.url,
      mode: "direct",
      segmentSize,
      concurrency: 2,
      transport,
    }).start();
    await waitUntil(
      () => upload.segmentsDone >= 1 && transport.storagePuts.inFlight >= 1,
      "a part stored, one in flight",
      30_000,
    );
    const report = await upload.cancel();
    expect(report).toMatchObject({ verified: true, remainingSegments: 0 });
    expect(transport.storagePuts.aborted).toBeGreaterThanOrEqual(1);
    expect(transport.storagePuts.inFlight).toBe(0);
    expect(upload.activeRequests).toBe(0);
    expect(upload.state).toBe("cancelled");
    expect(t.faults.calls("writeSegment")).toBe(writes);
    await expectNothingInBucket(upload.id as string);

    // The token cannot get another URL after the cancel.
    const api = new ApiClient(new UndiciTransport(), t.url);
    const ref = { id: upload.id as string, token: upload.token as string };
    await expect(api.presignSegment(ref, 0, new AbortController().signal)).rejects.toBeInstanceOf(
      UploadCancelledError,
    );
    expect((await api.status(ref, new AbortController().signal)).cancel).toMatchObject({ verified: true });
  });
});
