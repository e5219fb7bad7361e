import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeDir, startTestServer, type TestServer } from "../../server/test/support/harness.js";
import { launchBrowser, type TestBrowser } from "./support/browser.js";
import {
  cells,
  chooseSegmentSize,
  expectNothingLeft,
  openPage,
  screenshot,
  sha256OfFile,
  uploadIdOf,
  verifiedReport,
  videoLikeFile,
  waitForCells,
  waitForPhase,
} from "./support/page.js";

const KiB = 1024;
const MiB = 1024 * KiB;
let t: TestServer;
let browser: TestBrowser;
let work: string;

/**
 * A real server (disk + SQLite, behind its fault layer) serving the page, and a fresh Chromium
 * profile. `closeTimeoutMs: 0`: a test that stops the server mid-upload stops it as an outage
 * would, at once. A draining close (refusing new requests while the delayed writes finish) can
 * last long enough on a loaded machine for the page's retries to run out before the test's
 * Cancel, which then finds the upload failed instead of waiting.
 */
const serverOptions = { ffprobe: "auto", closeTimeoutMs: 0 } as const;
beforeEach(async () => {
  t = await startTestServer(serverOptions);
  browser = await launchBrowser();
  work = await mkdtemp(join(tmpdir(), "cleancut-web-"));
});
afterEach(async () => {
  await browser?.close();
  await t?.close();
  await removeDir(t?.dataDir ?? "");
  await rm(work, { recursive: true, force: true });
});

/**
 * Starts uploading `path` from the page in 256 KiB segments, each segment write held
 * `writeDelayMs` on the server, and returns once `stored` segments are stored.
 */
async function uploadUntilStored(
  path: string,
  stored: number,
  writeDelayMs: number,
  { hold = true }: { hold?: boolean } = {},
) {
  t.faults.inject("writeSegment", { kind: "delay", ms: writeDelayMs });
  const page = await openPage(browser, t);
  await chooseSegmentSize(page, 256 * KiB);
  await page.setInputFiles("#file", path);
  await waitForCells(page, "stored", stored);
  // Held there: further writes hang until something cuts them off (a cancel, a pause, a
  // reload, the server stopping) or the test clears the faults. Otherwise, on a loaded
  // machine, the upload may finish before the test's next click (Cancel is then disabled).
  if (hold) t.faults.inject("writeSegment", { kind: "hang" });
  return { page, id: await uploadIdOf(page) };
}

describe("the page, in Chromium, against a real server", () => {
  it("uploads a real video to completion, byte-identical, and plays it from the server", async () => {
    const path = process.env.CLEANCUT_TEST_VIDEO_LARGER as string;
    const page = await openPage(browser, t);
    await chooseSegmentSize(page, MiB);
    await page.setInputFiles("#file", path);
    await waitForPhase(page, "completed");
    const id = await uploadIdOf(page);
    const record = await t.server.repository.getUpload(id, new AbortController().signal);
    const video = await t.server.repository.getVideo(record?.videoId as string, new AbortController().signal);
    expect(video?.sha256).toBe(await sha256OfFile(path));
    expect(await cells(page, "stored")).toBe(record?.segmentCount);
    // The browser plays the server's copy (Range requests), to its end.
    const played = await page.evaluate(async () => {
      const element = document.getElementById("result") as HTMLVideoElement;
      element.muted = true;
      // The element was just given its src: its duration is NaN until the metadata arrived.
      if (element.readyState < HTMLMediaElement.HAVE_METADATA) {
        await new Promise((resolve, reject) => {
          element.addEventListener("loadedmetadata", resolve, { once: true });
          element.addEventListener("error", () => reject(new Error(`video error ${element.error?.code}`)), {
            once: true,
          });
        });
      }
      element.currentTime = element.duration - 0.5;
      await element.play();
      await new Promise((resolve) => element.addEventListener("ended", resolve, { once: true }));
      return { duration: element.duration, width: element.videoWidth, ended: element.ended };
    });
    expect(played).toMatchObject({ width: 640, ended: true });
    expect(played.duration).toBeCloseTo(8, 0);
    await expect(page.locator("#uploads tbody tr").first()).toBeTruthy();
    expect(await page.locator(`#uploads tr[data-id="${id}"] td.state`).textContent()).toBe("completed");
    await screenshot(page, "completed");
  });

  it("pause stops every transfer; resume continues and delivers the video byte-identical", async () => {
    const path = process.env.CLEANCUT_TEST_VIDEO_LARGER as string;
    // Not held: a write hung on the server outlives the browser's abort, and this test checks
    // that none is open once paused.
    const { page, id } = await uploadUntilStored(path, 3, 200, { hold: false });
    await page.click("#pause");
    await waitForPhase(page, "paused");
    await page.waitForFunction(
      () => document.querySelectorAll('#segment-map [data-state="sending"]').length === 0,
    );
    const stored = await cells(page, "stored");
    await new Promise((resolve) => setTimeout(resolve, 600));
    // Nothing moves while paused: no segment stored, no write open on the server.
    expect(await cells(page, "stored")).toBe(stored);
    expect(t.server.inflight.count(id)).toBe(0);
    t.faults.clear();
    await page.click("#resume");
    await waitForPhase(page, "completed");
    const record = await t.server.repository.getUpload(id, new AbortController().signal);
    const video = await t.server.repository.getVideo(record?.videoId as string, new AbortController().signal);
    expect(video?.sha256).toBe(await sha256OfFile(path));
  });

  it("cancel during the first request: the create is waited for, then deleted — nothing orphaned", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 2 * MiB);
    t.faults.inject("beginUpload", { kind: "delay", ms: 1500 });
    const page = await openPage(browser, t);
    await chooseSegmentSize(page, 256 * KiB);
    await page.setInputFiles("#file", path);
    await waitForPhase(page, "creating");
    await page.click("#cancel");
    const report = await verifiedReport(page);
    expect(report["Segments deleted"]).toBe("0 (0 B)");
    expect(report["Left in storage"]).toBe("0 segments");
    const id = await uploadIdOf(page);
    await expectNothingLeft(t, id);
  });

  it("cancel mid-way, with segments stored and in flight: every cell ends deleted, storage verified empty", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 6 * MiB);
    // Not held: this test watches the upload go on.
    const { page, id } = await uploadUntilStored(path, 2, 250, { hold: false });
    // No layout jumps while progress updates: the controls stay where they are.
    const before = await page.locator("#cancel").boundingBox();
    await waitForCells(page, "stored", 5);
    await waitForCells(page, "sending", 1);
    expect(await page.locator("#cancel").boundingBox()).toEqual(before);
    await screenshot(page, "uploading");
    await page.click("#cancel");
    const report = await verifiedReport(page);
    await screenshot(page, "cancelled");
    expect(Number(report["Segments deleted"]?.split(" ")[0])).toBeGreaterThanOrEqual(5);
    expect(report.Check).toBe("storage listed again: empty");
    expect(await cells(page, "stored")).toBe(0);
    expect(await cells(page, "sending")).toBe(0);
    expect(await cells(page, "deleted")).toBeGreaterThanOrEqual(5);
    await expectNothingLeft(t, id);
    expect(t.server.inflight.count(id)).toBe(0);
    // Readable on a phone-width screen: nothing wider than the viewport.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, "cancelled-phone");
  });

  it("is usable from the keyboard: Tab reaches the file picker, the options and, while uploading, Cancel", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 4 * MiB);
    t.faults.inject("writeSegment", { kind: "delay", ms: 250 });
    const page = await openPage(browser, t);
    const focused = async () => page.evaluate(() => document.activeElement?.id ?? "");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("file");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("segment-size");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("concurrency");
    await chooseSegmentSize(page, 256 * KiB);
    await page.setInputFiles("#file", path);
    await waitForCells(page, "stored", 1);
    await page.focus("#pause");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("cancel");
    await page.keyboard.press("Enter");
    await verifiedReport(page);
    await expectNothingLeft(t, await uploadIdOf(page));
  });

  it("cancel at the last segment", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 2 * MiB);
    const { page, id } = await uploadUntilStored(path, 7, 120);
    await page.click("#cancel");
    const report = await verifiedReport(page);
    expect(report["Left in storage"]).toBe("0 segments");
    await expectNothingLeft(t, id);
  });

  it("reload mid-upload, then resume with the same file: continues from the server's segments, byte-identical", async () => {
    // A real video: the server checks it with ffprobe when it completes.
    const path = process.env.CLEANCUT_TEST_VIDEO_LARGER as string;
    const { page, id } = await uploadUntilStored(path, 4, 200);
    page.once("dialog", (dialog) => void dialog.accept());
    await page.reload();
    await page.waitForSelector("html[data-ready=true]");
    await page.waitForSelector("#leftover:not([hidden])");
    expect(await page.textContent("#leftover-text")).toContain("testsrc-8s-4mbit.mp4");
    await screenshot(page, "resume-offer");
    t.faults.clear();
    const writesBefore = t.faults.calls("writeSegment");
    const chooser = page.waitForEvent("filechooser");
    await page.click("#leftover-resume");
    await (await chooser).setFiles(path);
    await waitForPhase(page, "completed");
    expect(await uploadIdOf(page)).toBe(id);
    const record = await t.server.repository.getUpload(id, new AbortController().signal);
    const video = await t.server.repository.getVideo(record?.videoId as string, new AbortController().signal);
    expect(video?.sha256).toBe(await sha256OfFile(path));
    // Not from zero: the segments the server held before the reload were not sent again.
    expect(t.faults.calls("writeSegment") - writesBefore).toBeLessThanOrEqual(
      (record?.segmentCount ?? 0) - 4,
    );
  });

  it("reload mid-cancel: the next visit finishes the cleanup from the browser's journal and shows it verified", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 4 * MiB);
    const { page, id } = await uploadUntilStored(path, 3, 250);
    // Deletes fail for now: the server answers 202 and the page shows the cleanup still going.
    t.faults.inject("deleteSegment", { kind: "fail", times: Number.POSITIVE_INFINITY });
    await page.click("#cancel");
    await page.waitForFunction(() =>
      /Deleting segments: \d+ of \d+ deleted/.test(document.getElementById("phase")?.textContent ?? ""),
    );
    await screenshot(page, "cancelling");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.reload();
    await page.waitForSelector("html[data-ready=true]");
    t.faults.clear();
    await page.waitForFunction(() =>
      (document.getElementById("leftover-status")?.textContent ?? "").startsWith("Cleaned up"),
    );
    await page.waitForSelector("html[data-pending-cancels=done]");
    expect(await page.locator(`#uploads tr[data-id="${id}"] td.state`).textContent()).toBe(
      "cancelled · storage verified empty",
    );
    await expectNothingLeft(t, id);
  });

  it("server stopped during cancel, then back: the cancel is kept, retried, and ends verified", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 3 * MiB);
    const { page, id } = await uploadUntilStored(path, 3, 150);
    const { dataDir } = t;
    const port = Number(new URL(t.url).port);
    await t.close();
    await page.click("#cancel");
    await page.waitForSelector('#report[data-verified="false"]', { timeout: 60_000 });
    expect(await page.textContent("#report")).toContain("could not be reached");
    await screenshot(page, "cancel-pending");
    t = await startTestServer({ ...serverOptions, dataDir, port });
    const report = await verifiedReport(page);
    expect(report["Left in storage"]).toBe("0 segments");
    await page.waitForSelector("html[data-pending-cancels=done]");
    await expectNothingLeft(t, id);
  });
});
