import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  BlobSource,
  createUpload,
  FetchTransport,
  NodeFileSource,
  type UploadPhase,
  type UploadProgress,
} from "../src/node/index.js";
import {
  KiB,
  largeTestVideo,
  RecordingTransport,
  removeDir,
  segmentSize,
  sha256Hex,
  startTestServer,
  type TestServer,
  testVideo,
} from "./support.js";

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  await t.close();
  await removeDir(t.dataDir);
});

describe("upload to completion", () => {
  it("delivers a byte-identical video from a file (undici), with events and closes the file", async () => {
    const bytes = await readFile(largeTestVideo());
    const source = await NodeFileSource.open(largeTestVideo());
    const upload = createUpload(source, { endpoint: t.url, segmentSize, concurrency: 3 });
    const states: UploadPhase[] = [];
    const progress: UploadProgress[] = [];
    const segments: number[] = [];
    upload.on("state", (s) => states.push(s));
    upload.on("progress", (p) => progress.push(p));
    upload.on("segment", (s) => segments.push(s.index));
    const video = await upload.start().done;

    expect(video.sha256).toBe(sha256Hex(bytes));
    expect(video.size).toBe(bytes.length);
    expect(states).toEqual(["creating", "uploading", "completing", "completed"]);
    const count = Math.ceil(bytes.length / segmentSize);
    expect(count).toBeGreaterThan(1);
    expect(segments.sort((a, b) => a - b)).toEqual([...Array(count).keys()]);
    expect(progress.at(-1)).toMatchObject({
      bytesSent: bytes.length,
      totalBytes: bytes.length,
      etaSeconds: 0,
    });
    expect(progress.every((p, i) => i === 0 || p.bytesSent >= (progress[i - 1]?.bytesSent ?? 0))).toBe(true);
    expect(upload.segmentCount).toBe(count);
    expect(upload.segmentsDone).toBe(count);
    expect(source.closed).toBe(true);
    expect(upload.activeRequests).toBe(0);
  });

  it("works with the browser pieces too: BlobSource over FetchTransport", async () => {
    const bytes = await readFile(testVideo());
    const blob = new Blob([bytes], { type: "video/mp4" });
    const upload = createUpload(new BlobSource(blob, { name: "clip.mp4" }), {
      endpoint: t.url,
      segmentSize,
      transport: new FetchTransport(),
    });
    const video = await upload.start().done;
    expect(video).toMatchObject({ sha256: sha256Hex(bytes), filename: "clip.mp4", contentType: "video/mp4" });
  });

  it("retries segments the server failed with 5xx and still completes byte-identical", async () => {
    t.faults.inject("writeSegment", { kind: "fail", times: 2 });
    const bytes = await readFile(largeTestVideo());
    const transport = new RecordingTransport();
    const upload = createUpload(await NodeFileSource.open(largeTestVideo()), {
      endpoint: t.url,
      segmentSize,
      transport,
      retryDelay: { baseMs: 5, maxMs: 20 },
    });
    const video = await upload.start().done;
    expect(video.sha256).toBe(sha256Hex(bytes));
    expect(transport.sent.filter((r) => r.method === "PUT" && r.status === 503)).toHaveLength(2);
  });

  it("does not retry a 4xx: one create, failed state, typed error", async () => {
    const transport = new RecordingTransport();
    const upload = createUpload(
      new BlobSource(new Blob([new Uint8Array(100 * KiB)]), { type: "video/mp4" }),
      {
        endpoint: t.url,
        segmentSize: 1024, // below the store's 64 KiB minimum: 400 invalid_segment_size
        transport,
        retryDelay: { baseMs: 1, maxMs: 1 },
      },
    );
    const errors: unknown[] = [];
    upload.on("error", (e) => errors.push(e));
    await expect(upload.start().done).rejects.toMatchObject({ code: "invalid_segment_size" });
    expect(transport.count("POST", "/v1/uploads")).toBe(1);
    expect(upload.state).toBe("failed");
    expect(errors).toHaveLength(1);
  });

  it("does not retry a 404: resuming an unknown upload fails after one request", async () => {
    const transport = new RecordingTransport();
    const upload = createUpload(await NodeFileSource.open(testVideo()), {
      endpoint: t.url,
      segmentSize,
      transport,
      resumeFrom: { id: "AAAAAAAAAAAAAAAAAAAAAA", token: "x".repeat(43) },
    });
    await expect(upload.start().done).rejects.toMatchObject({ code: "upload_not_found" });
    expect(transport.sent).toHaveLength(1);
  });

  it("a missing file is a FileNotFoundError", async () => {
    await expect(NodeFileSource.open("/nonexistent/clip.mp4")).rejects.toMatchObject({
      code: "file_not_found",
    });
  });
});
