// Checks that the public packages work from their npm tarballs alone: packs them, installs the
// tarballs into an empty project outside the repository (dependencies from the registry), and
// drives that install as a user would: `cleancut serve`, `cleancut upload` (complete and Ctrl-C),
// the Node SDK, and a Vite app with the browser SDK in Chromium. Needs a prior `npm run build`.
// Exits non-zero with one line on any failure.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { run, start, stopAll, waitFor } from "./tarballs/processes.mjs";
import { buildViteApp, driveViteApp, viteVersion } from "./tarballs/vite-check.mjs";

const repo = resolve(import.meta.dirname, "..");
const packages = ["core", "client", "server", "cli", "web"];
const bigFileSize = 400 * 1024 * 1024;

const t0 = Date.now();
/** Runs one step and prints how long it took. */
async function step(name, fn) {
  const began = Date.now();
  const detail = await fn();
  console.log(`ok  ${name} (${((Date.now() - began) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ""}`);
}

async function get(url) {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  return response;
}

/** How many segment files the server has stored under its data folder. */
async function storedSegments(data) {
  const entries = await readdir(join(data, "uploads"), { recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.endsWith(".seg")).length;
}

async function waitUntil(test, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

const root = await mkdtemp(join(tmpdir(), "cleancut-tarballs-"));
const app = join(root, "app");
let failed = false;
try {
  if (!relative(repo, root).startsWith("..")) throw new Error(`temp folder ${root} is inside the repository`);
  for (const name of packages) {
    if (!existsSync(join(repo, "packages", name, "dist"))) {
      throw new Error(`packages/${name}/dist is missing: run npm run build first`);
    }
  }

  const tarballs = join(root, "tarballs");
  await step("npm pack", async () => {
    await mkdir(tarballs);
    const workspaces = packages.flatMap((name) => ["-w", `@cleancut/${name}`]);
    await run("npm", ["pack", "--pack-destination", tarballs, ...workspaces], { cwd: repo });
    const files = await readdir(tarballs);
    if (files.length !== packages.length) throw new Error(`npm pack made ${files.length} tarballs`);
    return files.join(", ");
  });

  await step("npm i of the tarballs in an empty project", async () => {
    await mkdir(app);
    const manifest = { name: "tarball-check", version: "1.0.0", private: true, type: "module" };
    await writeFile(join(app, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    const files = (await readdir(tarballs)).map((file) => join(tarballs, file));
    await run("npm", ["i", "--no-audit", "--no-fund", ...files], { cwd: app });
    const { stdout } = await run("du", ["-sh", "node_modules"], { cwd: app });
    return `node_modules ${stdout.split("\t")[0]}`;
  });

  const small = join(root, "testsrc-3s.mp4");
  const big = join(root, "big.mp4");
  await step("test videos (ffmpeg)", async () => {
    const lavfi = ["-f", "lavfi", "-i", "testsrc=duration=3:size=640x360:rate=30", "-pix_fmt", "yuv420p"];
    await run("ffmpeg", ["-v", "error", "-y", ...lavfi, small], { cwd: root });
    // A real video's header, then zeros: the upload is big enough to interrupt, and is never completed.
    await copyFile(small, big);
    await truncate(big, bigFileSize);
  });

  const bin = join(app, "node_modules", ".bin", "cleancut");
  const data = join(root, "data");
  const server = start(bin, ["serve", "--port", "0", "--data-dir", data], { cwd: app });
  let endpoint = "";
  await step("cleancut serve --port 0", async () => {
    const match = await waitFor(
      server.out,
      "stdout",
      (s) => s.match(/listening on (\S+)/),
      30_000,
      "listening",
    );
    endpoint = match[1];
    return endpoint;
  });

  await step("page and API served", async () => {
    const page = await get(`${endpoint}/`);
    if (!page.headers.get("content-type")?.startsWith("text/html")) throw new Error("GET / is not HTML");
    const script = (await page.text()).match(/<script[^>]*\ssrc="([^"]+)"/);
    if (!script) throw new Error("GET / has no script tag: the page of @cleancut/web was not found");
    await get(new URL(script[1], `${endpoint}/`).href);
    await get(`${endpoint}/openapi.json`);
    return `/ , ${script[1]}, /openapi.json`;
  });

  const journal = ["--journal", join(root, "journal.json")];
  await step("cleancut upload completes byte-identical", async () => {
    const args = ["upload", small, "--endpoint", endpoint, "--json", ...journal];
    const { stdout } = await run(bin, args, { cwd: app });
    const video = JSON.parse(stdout.trim().split("\n").pop());
    const served = Buffer.from(
      await (await get(`${endpoint}/v1/videos/${video.videoId}/content`)).arrayBuffer(),
    );
    if (sha256(served) !== sha256(await readFile(small)))
      throw new Error("served video differs from the file");
    return `${video.videoId}, ${served.length} bytes`;
  });

  await step("cleancut upload interrupted by SIGINT", async () => {
    const args = ["upload", big, "--endpoint", endpoint, "--concurrency", "1", ...journal];
    const upload = start(bin, args, { cwd: app });
    // Interrupt once progress shows and the server holds a segment, so the cancel has bytes to delete.
    await waitFor(upload.out, "stderr", (s) => s.length > 0, 30_000, "upload progress");
    await waitUntil(() => storedSegments(data), 30_000, "a stored segment");
    upload.child.kill("SIGINT");
    const code = await upload.exited;
    if (code !== 130) throw new Error(`exit ${code}, not 130: ${upload.out.stderr.trim().slice(-300)}`);
    const report = upload.out.stdout.trim();
    const deleted = Number(report.match(/cancelled: (\d+) segments?/)?.[1] ?? 0);
    if (!report.includes("verified empty") || deleted < 1)
      throw new Error(`no verified cancel report: ${report}`);
    return report;
  });

  await step("Node ESM script with @cleancut/client/node: upload, then cancel", async () => {
    await copyFile(join(import.meta.dirname, "tarballs", "sdk-check.mjs"), join(app, "sdk-check.mjs"));
    const { stdout } = await run("node", ["sdk-check.mjs", endpoint, small, big], { cwd: app });
    const { video, report } = JSON.parse(stdout.trim().split("\n").pop());
    if (report.verified !== true) throw new Error(`cancel not verified: ${JSON.stringify(report)}`);
    return `completed ${video.videoId}; cancel verified in ${report.durationMs} ms`;
  });

  let dist = "";
  await step(`Vite app with @cleancut/client: npm i vite@${viteVersion}, vite build`, async () => {
    dist = await buildViteApp(app);
  });

  await step("Vite app in Chromium: upload, then cancel", () => {
    const options = { dist, bin, project: app, data: join(root, "vite-data"), small, big };
    return driveViteApp({ ...options, storedSegments, waitUntil });
  });

  console.log(`tarball check passed in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
} catch (error) {
  failed = true;
  console.error(`tarball check FAILED: ${error instanceof Error ? error.message : String(error)}`);
} finally {
  await stopAll();
  await rm(root, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
