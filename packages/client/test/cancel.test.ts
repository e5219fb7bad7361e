import { AbortedError } from "@cleancut/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type CancelProgress, createUpload, NodeFileSource, type Upload } from "../src/node/index.js";
import {
  expectFullyCleaned,
  leftovers,
  randomFile,
  removeDir,
  segmentSize,
  startTestServer,
  type TestServer,
  testVideo,
  waitForEvent,
  waitUntil,
} from "./support.js";

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  t.faults.clear();
  await t.close();
  await removeDir(t.dataDir);
});

async function randomUpload(segments: number, concurrency: number): Promise<Upload> {
  const { path } = await randomFile(segments * segmentSize);
  return createUpload(await NodeFileSource.open(path), { endpoint: t.url, segmentSize, concurrency });
}

const segmentEvents = (upload: Upload, n: number) => {
  let seen = 0;
  return waitForEvent<unknown>(
    (l) => upload.on("segment", l),
    () => ++seen >= n,
  );
};

async function expectDoneRejectedWithReport(upload: Upload) {
  const error = await upload.done.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AbortedError);
  expect((error as AbortedError).details?.report).toMatchObject({ verified: true });
}

describe("cancel", () => {
  it("before start: nothing was created, no request sent", async () => {
    const upload = await randomUpload(4, 2);
    const report = await upload.cancel();
    expect(report).toMatchObject({ outcome: "nothing_created", verified: true, deletedSegments: 0 });
    expect(upload.state).toBe("cancelled");
    upload.start(); // too late: stays cancelled
    expect(upload.state).toBe("cancelled");
    expect(await upload.verifyDeletion([])).toBe(true);
    await expectDoneRejectedWithReport(upload);
    await expectFullyCleaned(upload, t.dataDir);
  });

  it("during create: waits for the create, then deletes the upload (never orphaned)", async () => {
    t.faults.inject("beginUpload", { kind: "delay", ms: 300 });
    const upload = (await randomUpload(4, 2)).start();
    expect(upload.state).toBe("creating");
    const report = await upload.cancel();
    expect(upload.id).toEqual(expect.any(String));
    expect(report).toMatchObject({ id: upload.id, outcome: "verified", verified: true, state: "cancelled" });
    expect(t.faults.calls("writeSegment")).toBe(0);
    await expectDoneRejectedWithReport(upload);
    await expectFullyCleaned(upload, t.dataDir);
    const record = await t.server.repository.getUpload(upload.id as string, new AbortController().signal);
    expect(record?.state).toBe("cancelled");
  });

  it("at one segment", async () => {
    const upload = await randomUpload(16, 1);
    const first = segmentEvents(upload, 1);
    upload.start();
    await first;
    const report = await upload.cancel();
    expect(report.verified).toBe(true);
    expect(report.deletedSegments).toBeGreaterThanOrEqual(1);
    expect(upload.state).toBe("cancelled");
    await expectDoneRejectedWithReport(upload);
    await expectFullyCleaned(upload, t.dataDir);
  });

  it("mid-way, and the cleanup operations agree", async () => {
    const upload = await randomUpload(16, 2);
    const half = segmentEvents(upload, 8);
    upload.start();
    await half;
    const before = await upload.getUploadedVideoSegments();
    expect(before.length).toBeGreaterThanOrEqual(8);
    expect(await upload.verifyDeletion(before)).toBe(false);
    const report = await upload.cancelUpload();
    expect(report).toMatchObject({ verified: true, remainingSegments: 0, remaining: [] });
    expect(report.deletedSegments).toBeGreaterThanOrEqual(before.length);
    expect(await upload.getUploadedVideoSegments()).toEqual([]);
    expect(await upload.verifyDeletion(before)).toBe(true);
    await expectFullyCleaned(upload, t.dataDir);
  });

  it("with every segment in flight: all aborted at once, not waited for", async () => {
    // The writes hang until aborted: a cancel that waited for them would never return.
    t.faults.inject("writeSegment", { kind: "hang" });
    const upload = (await randomUpload(4, 4)).start();
    await waitUntil(() => t.faults.calls("writeSegment") === 4, "4 PUTs reaching storage");
    expect(upload.activeRequests).toBe(4);
    const report = await upload.cancel();
    expect(report).toMatchObject({ verified: true, deletedSegments: 0 });
    expect(upload.activeRequests).toBe(0);
    expect(t.server.inflight.count(report.id)).toBe(0);
    await expectFullyCleaned(upload, t.dataDir);
  });

  it("twice at once: the same promise and report", async () => {
    const upload = await randomUpload(8, 2);
    const first = segmentEvents(upload, 2);
    upload.start();
    await first;
    const a = upload.cancel();
    const b = upload.cancel();
    const c = upload.cancelUpload();
    expect(b).toBe(a);
    expect(c).toBe(a);
    const [ra, rb] = await Promise.all([a, b]);
    expect(rb).toBe(ra);
    expect(ra.verified).toBe(true);
    await expectFullyCleaned(upload, t.dataDir);
  });

  it("a 202 is followed until verified, with cancel-progress events", async () => {
    const upload = await randomUpload(4, 2);
    const two = segmentEvents(upload, 2);
    upload.start();
    await two;
    t.faults.inject("deleteSegment", { kind: "fail", times: Number.POSITIVE_INFINITY });
    const events: CancelProgress[] = [];
    upload.on("cancel-progress", (p) => {
      events.push(p);
      if (p.state === "cancelling") t.faults.clear("deleteSegment"); // storage recovers; the server retries
    });
    const report = await upload.cancel();
    expect(report).toMatchObject({ verified: true, state: "cancelled" });
    expect(report.attempts).toBeGreaterThanOrEqual(2);
    expect(events[0]).toMatchObject({ state: "cancelling" });
    expect(events[0]?.remainingSegments).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ state: "cancelled", remainingSegments: 0 });
    await expectFullyCleaned(upload, t.dataDir);
  });

  it("after complete: rejects with upload_completed from the server and keeps the video", async () => {
    const upload = createUpload(await NodeFileSource.open(testVideo()), { endpoint: t.url, segmentSize });
    const video = await upload.start().done;
    await expect(upload.cancel()).rejects.toMatchObject({ code: "upload_completed" });
    expect(upload.state).toBe("completed");
    const left = await leftovers(t.dataDir);
    expect(left.some((name) => name.includes(video.videoId))).toBe(true);
    expect(upload.activeRequests).toBe(0);
  });

  it("racing a complete the server already finished: the video it made is deleted too", async () => {
    // The server finishes the join, then is slow dropping the segments: its answer to
    // `complete` is still on the way when the person presses cancel.
    t.faults.inject("deleteSegment", { kind: "delay", ms: 400 });
    const upload = createUpload(await NodeFileSource.open(testVideo()), { endpoint: t.url, segmentSize });
    upload.start();
    await waitUntil(async () => {
      const id = upload.id;
      if (id === undefined) return false;
      const status = await fetch(`${t.url}/v1/uploads/${id}`, {
        headers: { authorization: `Bearer ${upload.token}` },
      });
      return ((await status.json()) as { state: string }).state === "completed";
    }, "the server to finish the join");
    const report = await upload.cancel();
    expect(report).toMatchObject({ outcome: "video_deleted", verified: true });
    expect(report.deletedVideoId).toEqual(expect.any(String));
    expect((await fetch(`${t.url}/v1/videos/${report.deletedVideoId}`)).status).toBe(404);
    await expect(upload.done).rejects.toBeInstanceOf(AbortedError);
    await waitUntil(() => t.server.inflight.count(report.id) === 0, "the server's segment purge");
    expect(await leftovers(t.dataDir)).toEqual([]);
    expect(upload.activeRequests).toBe(0);
  });
});
