import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import type { UploadEvent, UploadEventType } from "@cleancut/core";
import { Upload as TusUpload } from "tus-js-client";
import { expect } from "vitest";
import { createUpload, NodeFileSource } from "../../../client/src/node/index.js";
import { largeTestVideo, randomFile, waitUntil } from "../../../client/test/support.js";
import { filesUnder, leftovers, openFdsUnder } from "./harness.js";

/** Flows run through cleancut mounted in a host app at `base` (e.g. `http://127.0.0.1:1234/uploads`). */
export interface Mounted {
  base: string;
  dataDir: string;
  /** Every in-process event cleancut emitted, in order. */
  events: UploadEvent[];
}

const KiB = 1024;
export const segmentSize = 64 * KiB;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function eventsOf(m: Mounted, uploadId: string): UploadEventType[] {
  return m.events.filter((event) => event.data.uploadId === uploadId).map((event) => event.type);
}

/** The Node SDK uploads a real video through the mount; the video served back is byte-identical. */
export async function sdkUploadCompletes(m: Mounted): Promise<void> {
  const path = largeTestVideo();
  const bytes = await readFile(path);
  const upload = createUpload(await NodeFileSource.open(path), {
    endpoint: m.base,
    segmentSize,
    concurrency: 3,
  });
  upload.start();
  const video = await upload.done;
  expect(video.sha256).toBe(sha256Hex(bytes));
  const served = await fetch(`${m.base}/v1/videos/${video.videoId}/content`);
  expect(served.status).toBe(200);
  expect(sha256Hex(new Uint8Array(await served.arrayBuffer()))).toBe(sha256Hex(bytes));
  const id = upload.id as string;
  await waitUntil(() => eventsOf(m, id).includes("upload.completed"), "upload.completed");
  expect(eventsOf(m, id)).toEqual(["upload.created", "upload.completed"]);
  const completed = m.events.find((e) => e.type === "upload.completed" && e.data.uploadId === id);
  expect(completed?.data).toMatchObject({ videoId: video.videoId, sha256: video.sha256, size: bytes.length });
}

/** A cancel mid-upload through the mount: verified report, nothing left in storage, the event heard. */
export async function sdkCancelLeavesNothing(m: Mounted): Promise<void> {
  // What earlier tests left on purpose (their videos) stays; nothing of this upload may add to it.
  const before = await leftovers(m.dataDir);
  const file = await randomFile(24 * segmentSize);
  const upload = createUpload(await NodeFileSource.open(file.path), {
    endpoint: m.base,
    segmentSize,
    concurrency: 2,
  });
  upload.start();
  await waitUntil(() => upload.segmentsDone >= 2, "two segments stored");
  const report = await upload.cancel();
  expect(report.verified).toBe(true);
  expect(report.remainingSegments).toBe(0);
  expect(upload.activeRequests).toBe(0);
  const id = upload.id as string;
  expect(await leftovers(m.dataDir, id)).toEqual(before);
  expect(await openFdsUnder(`${m.dataDir}/uploads`)).toEqual([]);
  await waitUntil(() => eventsOf(m, id).includes("upload.cancelled"), "upload.cancelled");
  const cancelled = m.events.find((e) => e.type === "upload.cancelled" && e.data.uploadId === id);
  expect(cancelled?.data).toMatchObject({ uploadId: id, report: { verified: true, remainingSegments: 0 } });
}

/** tus-js-client through the mount: the Location it follows carries the mount path. */
export async function tusUploadCompletes(m: Mounted, mountPath: string): Promise<void> {
  const bytes = await readFile(largeTestVideo());
  const url = await new Promise<string>((resolve, reject) => {
    const upload = new TusUpload(bytes, {
      endpoint: `${m.base}/files/`,
      chunkSize: 256 * KiB,
      retryDelays: [],
      metadata: { filename: "clip.mp4", filetype: "video/mp4" },
      onError: reject,
      onSuccess: () => resolve(upload.url as string),
    });
    upload.start();
  });
  expect(new URL(url).pathname.startsWith(`${mountPath}/files/`)).toBe(true);
  const head = await fetch(url, { method: "HEAD", headers: { "tus-resumable": "1.0.0" } });
  expect(head.status).toBe(200);
  expect(head.headers.get("upload-offset")).toBe(String(bytes.length));
  const id = new URL(url).pathname.split("/").pop()?.split(".")[0] as string;
  await waitUntil(() => eventsOf(m, id).includes("upload.completed"), "tus upload.completed");
  const created = m.events.find((e) => e.type === "upload.created" && e.data.uploadId === id);
  expect(created?.data).toMatchObject({ protocol: "tus", size: bytes.length });
}

/** Creates an upload of `segments` full segments through the mount (v1 API). */
export async function createRawUpload(
  m: Mounted,
  segments: number,
): Promise<{ id: string; token: string; location: string | null }> {
  const response = await fetch(`${m.base}/v1/uploads`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      filename: "clip.mp4",
      size: segments * segmentSize,
      contentType: "video/mp4",
      segmentSize,
    }),
  });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { id: string; token: string };
  return { ...body, location: response.headers.get("location") };
}

export interface HeldPut {
  /** Sends the rest of the body. */
  finish(): void;
  readonly outcome: Promise<{ kind: "response"; status: number } | { kind: "cut" }>;
}

/**
 * A segment PUT that sends the first half of its body and then waits for `finish()`: a request
 * in flight for as long as a test needs, without timing guesses. Resolves once the server has
 * started reading it (its first bytes are on the socket and a temp file may exist).
 */
export async function heldSegmentPut(m: Mounted, upload: { id: string; token: string }): Promise<HeldPut> {
  const body = Buffer.alloc(segmentSize, 7);
  const half = segmentSize / 2;
  const req = request(`${m.base}/v1/uploads/${upload.id}/segments/0`, {
    method: "PUT",
    headers: {
      authorization: `Bearer ${upload.token}`,
      "content-type": "application/octet-stream",
      "content-length": String(segmentSize),
    },
  });
  const outcome = new Promise<{ kind: "response"; status: number } | { kind: "cut" }>((resolve) => {
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve({ kind: "response", status: res.statusCode ?? 0 }));
      res.on("error", () => resolve({ kind: "cut" }));
    });
    req.on("error", () => resolve({ kind: "cut" }));
  });
  req.write(body.subarray(0, half));
  return {
    finish() {
      if (!req.destroyed) req.end(body.subarray(half));
    },
    outcome,
  };
}

/** No temp or segment file of a cut-off write, and no descriptor open under the data folder. */
export async function expectNoPartialFiles(dataDir: string): Promise<void> {
  const files = (await filesUnder(`${dataDir}/uploads`)).map((file) => file.path);
  expect(files.filter((path) => !path.endsWith(".seg"))).toEqual([]);
  expect(await openFdsUnder(`${dataDir}/uploads`)).toEqual([]);
}
