import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Frame, Page } from "playwright-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FaultInjectingStore } from "../../server/src/index.js";
import { leftovers } from "../../server/test/support/harness.js";
import { launchBrowser, type TestBrowser } from "./support/browser.js";
import { sha256OfFile, verifiedReport, videoLikeFile, waitForCells } from "./support/page.js";

/** examples/express-app: plain .mjs, loaded as it is run (no types: it is an example to copy). */
const exampleDir = join(import.meta.dirname, "..", "..", "..", "examples", "express-app");
interface Example {
  url: string;
  close(): Promise<void>;
}
type StartExample = (options: Record<string, unknown>) => Promise<Example>;

const KiB = 1024;
const MiB = 1024 * KiB;
let example: Example;
let faults: FaultInjectingStore | undefined;
let browser: TestBrowser;
let work: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "cleancut-example-"));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** The example in this process (on a free port), with a fault layer under cleancut's store, and a Chromium. */
async function startAll(): Promise<void> {
  const modulePath = join(exampleDir, "app.mjs");
  const { startExample } = (await import(modulePath)) as { startExample: StartExample };
  example = await startExample({
    port: 0,
    dataDir: join(work, "data"),
    // Small segments so a cancel meets several stored; the fault layer holds each write a little.
    cleancut: {
      defaultSegmentSize: 256 * KiB,
      ffprobe: "auto",
      wrapStore: (inner: ConstructorParameters<typeof FaultInjectingStore>[0]) => {
        faults = new FaultInjectingStore(inner);
        return faults;
      },
    },
  });
  browser = await launchBrowser();
}
async function stopAll(): Promise<void> {
  await browser?.close();
  await example?.close();
}

async function logIn(name: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (error) => {
    throw new Error(`the page threw: ${error.message}`);
  });
  await page.goto(`${example.url}/`);
  await page.fill("input[name=name]", name);
  await page.click("button[type=submit]");
  await page.waitForSelector("#new-upload");
  return page;
}

/** Declares the upload in the app's form, then picks the file again in cleancut's embedded page. */
async function upload(page: Page, title: string, path: string): Promise<{ frame: Frame; uploadId: string }> {
  await page.fill("#new-title", title);
  await page.setInputFiles("#new-file", path);
  await page.click("#new-upload button[type=submit]");
  const element = await page.waitForSelector("#uploader:not([hidden])");
  const frame = (await element.contentFrame()) as Frame;
  await frame.waitForSelector("html[data-ready=true]");
  await frame.waitForSelector("#app-issued[data-state=waiting]");
  await frame.setInputFiles("#app-issued-file", path);
  await frame.waitForSelector("#current[data-upload-id]");
  const uploadId = (await frame.getAttribute("#current", "data-upload-id")) as string;
  return { frame, uploadId };
}

describe("examples/express-app, in Chromium: an app's user uploads through cleancut", () => {
  beforeEach(startAll);
  afterEach(stopAll);

  it("a completed upload appears in My videos (webhook) and plays; a cancelled one disappears with its verified report", async () => {
    const page = await logIn("alice");
    const videoPath = process.env.CLEANCUT_TEST_VIDEO_LARGER as string;

    const done = await upload(page, "Test pattern", videoPath);
    // The row turns into a playable video only when the app received upload.completed.
    const row = `#videos li[data-upload-id="${done.uploadId}"]`;
    await page.waitForSelector(`${row}[data-state=completed] a`, { timeout: 60_000 });
    expect(await page.textContent(`${row} strong`)).toBe("Test pattern");
    const href = (await page.getAttribute(`${row} a`, "href")) as string;
    const served = await page.request.get(`${example.url}${href}`);
    expect(served.status()).toBe(200);
    const servedPath = join(work, "served.mp4");
    await writeFile(servedPath, await served.body());
    expect(await sha256OfFile(servedPath)).toBe(await sha256OfFile(videoPath));

    // A second upload, cancelled with segments stored and in flight.
    const clip = await videoLikeFile(join(work, "clip.mp4"), 4 * MiB);
    faults?.inject("writeSegment", { kind: "delay", ms: 250 });
    const cancelled = await upload(page, "Not this one", clip);
    await waitForCells(cancelled.frame, "stored", 2);
    // From here on writes hang until the cancel cuts them off, so the upload cannot finish
    // before the click lands, however slow the machine.
    faults?.inject("writeSegment", { kind: "hang" });
    await page.waitForSelector(`#videos li[data-upload-id="${cancelled.uploadId}"][data-state=uploading]`);
    await cancelled.frame.click("#cancel");
    const report = await verifiedReport(cancelled.frame);
    expect(report["Left in storage"]).toBe("0 segments");
    faults?.clear();

    // upload.cancelled reached the app: the row is gone, a note shows cleancut's verified report.
    const note = `#notes li[data-upload-id="${cancelled.uploadId}"]`;
    await page.waitForSelector(`${note}[data-verified=true]`, { timeout: 60_000 });
    expect(await page.locator(`#videos li[data-upload-id="${cancelled.uploadId}"]`).count()).toBe(0);
    expect(Number(await page.getAttribute(note, "data-deleted-segments"))).toBeGreaterThanOrEqual(2);
    expect(await page.textContent(note)).toContain("storage verified empty");
    expect(await page.locator(`${row}[data-state=completed]`).count()).toBe(1);

    // cleancut's storage holds the completed video and nothing else.
    const left = await leftovers(join(work, "data"));
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/videos\//);
  });

  it("refuses a webhook with a bad signature (400) and lists only the logged-in user's videos", async () => {
    const forged = await fetch(`${example.url}/webhooks/cleancut`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": "evt_forged",
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      },
      body: JSON.stringify({
        id: "evt_forged",
        type: "upload.completed",
        timestamp: new Date().toISOString(),
        data: { uploadId: "up_forged", owner: "bob", metadata: { title: "forged" }, videoId: "v" },
      }),
    });
    expect(forged.status).toBe(400);
    const page = await logIn("bob");
    const listed = await page.evaluate(async () => (await fetch("/api/videos")).json());
    expect(listed).toEqual({ videos: [], notes: [] });
    expect((await fetch(`${example.url}/api/videos`)).status).toBe(401);
  });
});

describe("npm run example", () => {
  it("starts the app with one command, prints its URL, and stops on SIGINT", async () => {
    const child = spawn(process.execPath, [join(exampleDir, "server.mjs")], {
      env: { ...process.env, PORT: "0", DATA_DIR: join(work, "cli-data") },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        child.once("exit", () => reject(new Error(`exited before printing its URL: ${out}`)));
      });
      const home = await fetch(`${url}/`);
      expect(await home.text()).toContain('action="/login"');
      const page = await fetch(`${url}/cleancut/`);
      expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'self'");
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).toBe(0);
  });
});
