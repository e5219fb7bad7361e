import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { build } from "vite";
import type { TestServer } from "../../../server/test/support/harness.js";
import type { FixtureEvent } from "../uppy-fixture/main.js";
import type { TestBrowser } from "./browser.js";

/** Builds the Uppy fixture page into a fresh folder for the server's `webRoot`. */
export async function buildUppyFixture(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), "cleancut-uppy-"));
  await build({
    root: join(import.meta.dirname, "..", "uppy-fixture"),
    // Nothing of packages/web's own Vite config: this page is only Uppy and its tus plugin.
    configFile: false,
    logLevel: "silent",
    build: { outDir, emptyOutDir: true, target: "es2022" },
  });
  return outDir;
}

/** Opens the fixture page the server serves at `/` and adds `path` to Uppy (not uploaded yet). */
export async function openUppyPage(browser: TestBrowser, t: TestServer, path: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (error) => {
    throw new Error(`the page threw: ${error.message}`);
  });
  await page.goto(`${t.url}/`);
  await page.waitForSelector("html[data-ready=true]");
  await page.setInputFiles("#file", path);
  await page.waitForSelector("html[data-files='1']");
  return page;
}

export function eventsOf(page: Page): Promise<FixtureEvent[]> {
  return page.evaluate(() => window.events);
}

/** Waits for progress with the tus URL known and `atLeast` bytes reported; returns the URL. */
export async function uploadUrlOnceProgressed(page: Page, atLeast: number): Promise<string> {
  const handle = await page.waitForFunction((n) => {
    const hit = window.events.find(
      (e) => e.type === "upload-progress" && e.uploadUrl !== undefined && e.bytesUploaded >= n,
    );
    return hit?.type === "upload-progress" ? hit.uploadUrl : undefined;
  }, atLeast);
  return (await handle.jsonValue()) as string;
}

/** The upload id and token in a tus URL `/files/<id>.<token>`. */
export function tusRef(uploadUrl: string): { id: string; token: string } {
  const [id, token] = (new URL(uploadUrl, "http://x").pathname.split("/").pop() as string).split(".");
  return { id: id as string, token: token as string };
}

export interface UploadStatusBody {
  state: string;
  videoId?: string;
  cancel?: { verified: boolean; reason: string; deletedSegments: number };
}

/** What `/v1/uploads/<id>` says to the holder of the URL's token. */
export async function uploadStatus(t: TestServer, uploadUrl: string): Promise<UploadStatusBody> {
  const { id, token } = tusRef(uploadUrl);
  const response = await fetch(`${t.url}/v1/uploads/${id}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await response.json()) as UploadStatusBody;
}

/** The bytes of the video an upload made, through `/v1/videos/<id>/content` with the same token. */
export async function videoBytes(t: TestServer, uploadUrl: string, videoId: string): Promise<Buffer> {
  const { token } = tusRef(uploadUrl);
  const response = await fetch(`${t.url}/v1/videos/${videoId}/content`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return Buffer.from(await response.arrayBuffer());
}
