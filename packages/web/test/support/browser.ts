import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium (`apt-get install chromium`; scripts/ensure-system-deps.sh does it). No browser download. */
export const chromiumPath = process.env.CLEANCUT_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Flags for a closed network and a root user: without the background-networking ones Chromium
 * keeps trying to reach Google's hosts and some of its connections are refused.
 */
const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export interface TestBrowser {
  browser: Browser;
  /** A persistent profile (IndexedDB survives reloads and new pages), fresh for each test file. */
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), "cleancut-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    args: flags,
    headless: true,
    viewport: { width: 1100, height: 900 },
  });
  const browser = context.browser();
  return {
    browser: browser as Browser,
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}
