import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Page } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { leftovers, removeDir, startTestServer, type TestServer } from "../../server/test/support/harness.js";
import { launchBrowser, type TestBrowser } from "./support/browser.js";
import {
  expectNothingLeft,
  sha256OfFile,
  uploadIdOf,
  verifiedReport,
  videoLikeFile,
  waitForCells,
  waitForPhase,
} from "./support/page.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const apiKey = "web-app-issued-key";
let t: TestServer;
let browser: TestBrowser;
let work: string;

beforeEach(async () => {
  t = await startTestServer({ apiKey, ffprobe: "auto" });
  browser = await launchBrowser();
  work = await mkdtemp(join(tmpdir(), "cleancut-web-app-issued-"));
});
afterEach(async () => {
  await browser?.close();
  await t?.close();
  await removeDir(t?.dataDir ?? "");
  await rm(work, { recursive: true, force: true });
});

/** The application's backend: creates the upload with the API key, hands the browser its id and token. */
async function createOnBackend(path: string, segmentSize: number): Promise<{ id: string; token: string }> {
  const response = await fetch(`${t.url}/v1/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      filename: basename(path),
      size: (await stat(path)).size,
      contentType: "video/mp4",
      segmentSize,
    }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as { id: string; token: string };
}

async function openAppIssued(ref: { id: string; token: string }): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (error) => {
    throw new Error(`the page threw: ${error.message}`);
  });
  await page.goto(`${t.url}/#upload=${encodeURIComponent(ref.id)}&token=${encodeURIComponent(ref.token)}`);
  await page.waitForSelector("html[data-ready=true]");
  return page;
}

describe("the page with an app-issued upload (#upload=<id>&token=<token>), in Chromium", () => {
  it("names the file the upload expects, refuses another one, and uploads the right one byte-identical", async () => {
    const path = process.env.CLEANCUT_TEST_VIDEO_LARGER as string;
    const ref = await createOnBackend(path, MiB);
    const page = await openAppIssued(ref);
    expect(await page.textContent("#app-issued-name")).toBe(basename(path));
    expect(await page.textContent("#app-issued-text")).toContain(basename(path));
    expect(await page.isVisible("#picker")).toBe(false);

    await page.setInputFiles("#app-issued-file", process.env.CLEANCUT_TEST_VIDEO as string);
    await page.waitForSelector("#app-issued[data-state=mismatch]");
    expect(await page.textContent("#app-issued-status")).toContain("not the file this upload is for");
    expect(await page.isVisible("#current")).toBe(false);

    await page.setInputFiles("#app-issued-file", path);
    await waitForPhase(page, "completed");
    expect(await uploadIdOf(page)).toBe(ref.id);
    const record = await t.server.repository.getUpload(ref.id, new AbortController().signal);
    const video = await t.server.repository.getVideo(record?.videoId as string, new AbortController().signal);
    expect(video?.sha256).toBe(await sha256OfFile(path));
    expect(await page.isVisible("#app-issued")).toBe(false);
  });

  it("cancel mid-way shows the verified report; storage is empty", async () => {
    const path = await videoLikeFile(join(work, "clip.mp4"), 4 * MiB);
    const ref = await createOnBackend(path, 256 * KiB);
    t.faults.inject("writeSegment", { kind: "delay", ms: 250 });
    const page = await openAppIssued(ref);
    await page.setInputFiles("#app-issued-file", path);
    await waitForCells(page, "stored", 2);
    // From here on writes hang until the cancel cuts them off: the upload cannot finish before
    // the click lands, however slow the machine.
    t.faults.inject("writeSegment", { kind: "hang" });
    await page.click("#cancel");
    const report = await verifiedReport(page);
    expect(Number(report["Segments deleted"]?.split(" ")[0])).toBeGreaterThanOrEqual(2);
    expect(report["Left in storage"]).toBe("0 segments");
    await expectNothingLeft(t, ref.id);
    expect(await leftovers(t.dataDir)).toEqual([]);
  });

  it("a link with a wrong token says so and offers no picker", async () => {
    const ref = await createOnBackend(process.env.CLEANCUT_TEST_VIDEO as string, 64 * KiB);
    const page = await openAppIssued({ id: ref.id, token: `${ref.token}x` });
    await page.waitForSelector("#app-issued[data-state=invalid]");
    expect(await page.textContent("#app-issued-text")).toContain("forbidden");
    expect(await page.isVisible("#app-issued-drop")).toBe(false);
    expect(await page.isVisible("#picker")).toBe(false);
  });
});
