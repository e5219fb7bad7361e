import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { leftovers, removeDir, startTestServer, type TestServer } from "../../server/test/support/harness.js";
import { launchBrowser, type TestBrowser } from "./support/browser.js";
import { expectNothingLeft, videoLikeFile } from "./support/page.js";
import {
  buildUppyFixture,
  eventsOf,
  openUppyPage,
  tusRef,
  uploadStatus,
  uploadUrlOnceProgressed,
  videoBytes,
} from "./support/uppy.js";

const KiB = 1024;
const MiB = 1024 * KiB;
let fixtureRoot: string;
let t: TestServer;
let browser: TestBrowser;
let work: string;
/** Every tus request the page made, with the answer it got: what a failure message shows. */
let tusLog: string[];

/** Built once: the page is the same for every test; the server and the browser profile are not. */
beforeAll(async () => {
  fixtureRoot = await buildUppyFixture();
});
afterAll(async () => {
  await rm(fixtureRoot, { recursive: true, force: true });
});

/** Same server as the tus-client tests (disk + SQLite, 256 KiB segments, a short unclaimed expiry), serving the page. */
beforeEach(async () => {
  t = await startTestServer({ defaultSegmentSize: 256 * KiB, tusUnclaimedTtlMs: 1500, webRoot: fixtureRoot });
  browser = await launchBrowser();
  work = await mkdtemp(join(tmpdir(), "cleancut-uppy-work-"));
  tusLog = [];
  browser.context.on("requestfinished", (request) => {
    void request.response().then((response) => logTus(request.method(), request.url(), response?.status()));
  });
  browser.context.on("requestfailed", (request) => {
    logTus(request.method(), request.url(), request.failure()?.errorText);
  });
});
afterEach(async () => {
  await browser?.close();
  await t?.close();
  await removeDir(t?.dataDir ?? "");
  await rm(work, { recursive: true, force: true });
});

function logTus(method: string, url: string, outcome: number | string | undefined): void {
  const path = new URL(url).pathname;
  // The token part of the URL stays out of the log, as it does on the server.
  if (path.startsWith("/files/")) tusLog.push(`${method} ${path.split(".")[0]} -> ${outcome}`);
}

/** Starts `uppy.upload()` without waiting for it: the test decides when it ends. */
async function startUpload(page: Page): Promise<void> {
  await page.evaluate(() => {
    void window.uppy.upload();
  });
}

/**
 * Uploads a 6 MiB file with every segment write held on the server, and returns once the
 * upload has its tus URL and some segments are stored: a PATCH is then in flight.
 */
async function uploadInFlight(): Promise<{ page: Page; url: string }> {
  const path = await videoLikeFile(join(work, "clip.mp4"), 6 * MiB);
  t.faults.inject("writeSegment", { kind: "delay", ms: 150 });
  const page = await openUppyPage(browser, t, path);
  await startUpload(page);
  const url = await uploadUrlOnceProgressed(page, 1);
  await expect.poll(() => t.faults.calls("writeSegment")).toBeGreaterThanOrEqual(3);
  return { page, url };
}

/** The promise, from the server's side: no byte on disk, the upload cancelled and verified, to the token holder too. */
async function expectTerminatedClean(url: string): Promise<void> {
  const { id } = tusRef(url);
  await vi.waitFor(() => expectNothingLeft(t, id), { timeout: 10_000, interval: 100 });
  const status = await uploadStatus(t, url);
  expect(status.state).toBe("cancelled");
  expect(status.cancel?.verified).toBe(true);
  // Cancelled mid-way, with segments stored: the two whose writes had finished before the
  // third began (uploadInFlight) were deleted by the cancel itself.
  expect(status.cancel?.deletedSegments).toBeGreaterThanOrEqual(2);
  expect(t.server.inflight.count(id)).toBe(0);
}

/** `made` uploads on the server, each cancelled and verified, and nothing under `uploads/` or `videos/`. */
async function expectEveryUploadCleaned(made: number): Promise<void> {
  const signal = new AbortController().signal;
  await vi.waitFor(
    async () => {
      expect(await leftovers(t.dataDir)).toEqual([]);
      const records = await t.server.repository.listUploads({ limit: 100 }, signal);
      expect(records).toHaveLength(made);
      for (const record of records) {
        expect(record.state).toBe("cancelled");
        expect(record.cancelReport).toMatchObject({ verified: true, remainingSegments: 0 });
      }
    },
    { timeout: 5_000, interval: 100 },
  );
}

describe("Uppy 6 with @uppy/tus, in Chromium, against cleancut's tus endpoint (same origin)", () => {
  it("uploads a real video with uppy.upload(): completed, byte-identical through /v1", async () => {
    const path = process.env.CLEANCUT_TEST_VIDEO_LARGER as string;
    const page = await openUppyPage(browser, t, path);
    const result = await page.evaluate(async () => {
      const outcome = await window.uppy.upload();
      return { successful: outcome?.successful?.length, failed: outcome?.failed?.length };
    });
    expect(result, tusLog.join("\n")).toEqual({ successful: 1, failed: 0 });
    const events = await eventsOf(page);
    const success = events.find((event) => event.type === "upload-success");
    expect(success?.type === "upload-success" ? success.uploadURL : undefined).toMatch(
      /\/files\/[^/]+\.[^/]+$/,
    );
    const url = success?.type === "upload-success" ? (success.uploadURL as string) : "";
    expect(events.filter((event) => event.type === "upload-error" || event.type === "csp-violation")).toEqual(
      [],
    );
    const status = await uploadStatus(t, url);
    expect(status.state).toBe("completed");
    expect((await videoBytes(t, url, status.videoId as string)).equals(await readFile(path))).toBe(true);
    // Only the video is left: the segments went when it completed.
    expect(await leftovers(t.dataDir)).toHaveLength(1);
  });

  it("cancelAll() mid-upload terminates the upload: nothing left on disk, cancel verified", async () => {
    const { page, url } = await uploadInFlight();
    await page.evaluate(() => window.uppy.cancelAll());
    await expectTerminatedClean(url);
    await expect.poll(() => tusLog).toContain(`DELETE /files/${tusRef(url).id} -> 204`);
    expect((await eventsOf(page)).map((event) => event.type)).toContain("cancel-all");
  });

  it("removeFile() mid-upload terminates the upload the same way", async () => {
    const { page, url } = await uploadInFlight();
    await page.evaluate(() => window.uppy.removeFile(window.uppy.getFiles()[0]?.id as string));
    await expectTerminatedClean(url);
    await expect.poll(() => tusLog).toContain(`DELETE /files/${tusRef(url).id} -> 204`);
    const removed = (await eventsOf(page)).find((event) => event.type === "file-removed");
    expect(removed?.type === "file-removed" ? removed.uploadUrl : undefined).toBe(url);
  });

  /**
   * Chromium drops a held request once the page aborts it, so this POST never reaches the
   * server: what it checks is that Uppy sends nothing more (no retry, no late create). The
   * next test is the one where the server has started the create.
   */
  it("cancelAll() while the browser holds the creation request: nothing created, nothing left", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 2 * MiB);
    const page = await openUppyPage(browser, t, path);
    let posted = false;
    await page.route("**/files/", async (route) => {
      if (route.request().method() === "POST") {
        posted = true;
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      // The page may have aborted the request meanwhile: then there is nothing to continue.
      await route.continue().catch(() => undefined);
    });
    await startUpload(page);
    await expect.poll(() => posted).toBe(true);
    await page.evaluate(() => window.uppy.cancelAll());
    // Past the hold and Uppy's retry delays: whatever was going to be sent has been.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await expectEveryUploadCleaned(t.faults.calls("beginUpload"));
    expect(tusLog.some((line) => line.startsWith("DELETE"))).toBe(false);
  });

  it("cancelAll() while the server is inside the creation request: the server cancels what it made", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 2 * MiB);
    t.faults.inject("beginUpload", { kind: "delay", ms: 1500 });
    const page = await openUppyPage(browser, t, path);
    await startUpload(page);
    // The POST reached the server and is inside the create: Uppy has no URL, so it cannot DELETE.
    await expect.poll(() => t.faults.calls("beginUpload")).toBe(1);
    await page.evaluate(() => window.uppy.cancelAll());
    // The record is written once the held storage call returns, to a client already gone:
    // the creation-close cancel (or, failing that, the 1.5 s unclaimed expiry) removes it.
    await expectEveryUploadCleaned(1);
    expect(tusLog.some((line) => line.startsWith("DELETE"))).toBe(false);
  });
});
