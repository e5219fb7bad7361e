import { createHash, randomFillSync } from "node:crypto";
import { mkdirSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Frame, Page } from "playwright-core";
import { expect } from "vitest";
import { leftovers, type TestServer } from "../../../server/test/support/harness.js";
import type { TestBrowser } from "./browser.js";

export const screenshotsDir = join(import.meta.dirname, "..", "..", "..", "..", "docs", "screenshots");

/** Opens the page a real `cleancut serve` serves at `/`, once it has looked at the last visit. */
export async function openPage(browser: TestBrowser, t: TestServer): Promise<Page> {
  const page = await browser.context.newPage();
  page.on("pageerror", (error) => {
    throw new Error(`the page threw: ${error.message}`);
  });
  await page.goto(`${t.url}/`);
  await page.waitForSelector("html[data-ready=true]");
  return page;
}

export async function chooseSegmentSize(page: Page, bytes: number): Promise<void> {
  await page.selectOption("#segment-size", String(bytes));
}

/** How many cells of the segment map are in `state`. */
export function cells(page: Page, state: string): Promise<number> {
  return page.locator(`#segment-map [data-state="${state}"]`).count();
}

export async function waitForCells(page: Page | Frame, state: string, atLeast: number): Promise<void> {
  await page.waitForFunction(
    ([s, n]) => document.querySelectorAll(`#segment-map [data-state="${s}"]`).length >= (n as number),
    [state, atLeast] as const,
  );
}

export async function waitForPhase(page: Page, state: string): Promise<void> {
  await page.waitForFunction((s) => document.getElementById("current")?.dataset.state === s, state);
}

export async function uploadIdOf(page: Page): Promise<string> {
  await page.waitForSelector("#current[data-upload-id]");
  return (await page.getAttribute("#current", "data-upload-id")) as string;
}

/** Waits for the verified report on the page and returns what it says. */
export async function verifiedReport(
  page: Page | Frame,
  selector = "#report",
): Promise<Record<string, string>> {
  await page.waitForSelector(`${selector}[data-verified="true"]`, { timeout: 60_000 });
  const terms = await page.locator(`${selector} dt`).allTextContents();
  const values = await page.locator(`${selector} dd`).allTextContents();
  return Object.fromEntries(terms.map((term, index) => [term, values[index] ?? ""]));
}

/** The promise, checked from the server's side: no byte of the upload on disk, a verified cancel in its record. */
export async function expectNothingLeft(t: TestServer, id: string): Promise<void> {
  expect(await leftovers(t.dataDir, id)).toEqual([]);
  const record = await t.server.repository.getUpload(id, new AbortController().signal);
  expect(record?.state).toBe("cancelled");
  expect(record?.cancelReport).toMatchObject({ verified: true, remainingSegments: 0 });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotsDir, { recursive: true });
  await page.screenshot({ path: join(screenshotsDir, `${name}.png`), fullPage: true });
}

/** A file that passes the server's container check (an MP4 `ftyp` box) followed by random bytes. */
export async function videoLikeFile(path: string, size: number): Promise<string> {
  const bytes = randomFillSync(Buffer.alloc(size));
  Buffer.from([0, 0, 0, 0x18, ...Buffer.from("ftypisom"), 0, 0, 2, 0, ...Buffer.from("isomiso2")]).copy(
    bytes,
  );
  await writeFile(path, bytes);
  return path;
}

export async function sha256OfFile(path: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
}
