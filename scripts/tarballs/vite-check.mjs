// The browser SDK from its tarball: the minimal Vite app in vite-app/ is copied into the tarball
// project, built there with Vite from the registry, served by a small static server on its own
// origin, and driven in Chromium (playwright-core from the repository: only the app is the
// user's) against a `cleancut serve` that allows that origin (CORS).
import { createHash } from "node:crypto";
import { cp, readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, sep } from "node:path";
import { chromium } from "playwright-core";
import { run, start, waitFor } from "./processes.mjs";

/** The Vite the repository itself uses (`npm ls vite`). */
export const viteVersion = "7.3.8";

/** Flags of packages/web/test/support/browser.ts: a closed network and a root user. */
const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Copies the app into the project, installs Vite there and builds; returns the built folder. */
export async function buildViteApp(project) {
  const web = join(project, "web");
  await cp(join(import.meta.dirname, "vite-app"), web, { recursive: true });
  await run("npm", ["i", "--no-audit", "--no-fund", `vite@${viteVersion}`], { cwd: project });
  await run(join(project, "node_modules", ".bin", "vite"), ["build", "web"], { cwd: project });
  return join(web, "dist");
}

/** Serves the files of `root` on 127.0.0.1 and a free port. */
async function serveStatic(root) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = createServer(async (request, response) => {
    const path = new URL(request.url ?? "/", "http://localhost").pathname;
    const file = join(root, path === "/" ? "index.html" : path);
    const body = file.startsWith(root + sep) ? await readFile(file).catch(() => undefined) : undefined;
    response.writeHead(body ? 200 : 404, { "content-type": types[extname(file)] ?? "text/plain" });
    response.end(body);
  });
  await new Promise((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/**
 * In Chromium: uploads `small` to completion (the server must then serve the same bytes) and
 * cancels an upload of `big` once the server holds a segment of it (the report must be verified,
 * with a segment deleted, and no segment left in `data`). Returns a one-line summary.
 */
export async function driveViteApp({ dist, bin, project, data, small, big, storedSegments, waitUntil }) {
  const { server: files, origin } = await serveStatic(dist);
  let browser;
  try {
    const args = ["serve", "--port", "0", "--data-dir", data, "--cors-origin", origin];
    const api = start(bin, args, { cwd: project });
    const listening = (s) => s.match(/listening on (\S+)/);
    const endpoint = (await waitFor(api.out, "stdout", listening, 30_000, "listening"))[1];

    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: chromiumFlags });
    const page = await browser.newPage();
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`${origin}/?endpoint=${encodeURIComponent(endpoint)}`);
    const result = page.locator("#result");
    /** Waits for one of `states` on #result and returns its data attributes. */
    const settled = async (states, ms) => {
      const selector = states.map((state) => `#result[data-state="${state}"]`).join(", ");
      await page
        .locator(selector)
        .waitFor({ timeout: ms })
        .catch((error) => {
          throw new Error(`${states.join("/")} not shown: ${error.message.split("\n")[0]} ${pageErrors}`);
        });
      return result.evaluate((element) => ({ ...element.dataset }));
    };

    await page.locator("#file").setInputFiles(small);
    await page.locator("#upload").click();
    const video = await settled(["done", "failed"], 60_000);
    if (video.state !== "done") throw new Error(`upload failed in the page: ${video.error}`);
    const response = await fetch(`${endpoint}/v1/videos/${video.videoId}/content`);
    const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
    if (sha256(Buffer.from(await response.arrayBuffer())) !== sha256(await readFile(small)))
      throw new Error(`served video ${video.videoId} differs from the file (${response.status})`);

    await page.locator("#file").setInputFiles(big);
    await page.locator("#upload").click();
    await waitUntil(() => storedSegments(data), 30_000, "a stored segment of the browser's upload");
    await page.locator("#cancel").click();
    const report = await settled(["cancelled", "failed"], 60_000);
    if (report.state !== "cancelled") throw new Error(`cancel failed in the page: ${report.error}`);
    if (report.verified !== "true" || !(Number(report.deletedSegments) >= 1))
      throw new Error(`no verified cancel report: ${JSON.stringify(report)}`);
    const left = await storedSegments(data);
    if (left !== 0) throw new Error(`${left} segments left after the verified cancel`);
    return `completed ${video.videoId}; cancel verified, ${report.deletedSegments} segments deleted`;
  } finally {
    await browser?.close();
    files.closeAllConnections();
    await new Promise((resolve) => files.close(resolve));
  }
}
