import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, renameSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, expect } from "vitest";
import { leftovers, removeDir } from "../../server/test/support/harness.js";
import type { HttpRequest, HttpResponse, HttpTransport, Upload } from "../src/node/index.js";
import { UndiciTransport } from "../src/node/index.js";

export {
  leftovers,
  openFdsUnder,
  removeDir,
  startTestServer,
  type TestServer,
} from "../../server/test/support/harness.js";

export const KiB = 1024;
export const segmentSize = 64 * KiB;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Folders made by `tempDir` in this test file, removed once its tests ran. */
const tempDirs: string[] = [];
afterAll(async () => {
  await Promise.all(tempDirs.splice(0).map(removeDir));
});

/** A new folder under the system's temp folder, removed after the test file's last test. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

/** Random bytes written to a temp file (cancel tests: they never complete, so no video is needed). */
export async function randomFile(size: number): Promise<{ path: string; bytes: Buffer }> {
  const dir = await tempDir("cleancut-client");
  const bytes = randomBytes(size);
  const path = join(dir, "random.mp4");
  await writeFile(path, bytes);
  return { path, bytes };
}

export function testVideo(): string {
  const path = process.env.CLEANCUT_TEST_VIDEO;
  if (path === undefined) throw new Error("CLEANCUT_TEST_VIDEO is not set: the global setup did not run");
  return path;
}

/**
 * The shared test video is ~23 KB: one 64 KiB segment (the disk store's minimum). Parallel,
 * resumable uploads need several segments, so this makes a ~1.4 MB real video next to it once,
 * with the same ffmpeg the global setup needs (written to a temp name, then renamed: test files
 * run in parallel).
 */
export function largeTestVideo(): string {
  const path = join(dirname(testVideo()), "testsrc-noise-2s.mp4");
  if (existsSync(path)) return path;
  const temp = `${path}.${process.pid}.tmp.mp4`;
  execFileSync("ffmpeg", [
    "-v",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    "testsrc=duration=2:size=640x360:rate=30",
    "-vf",
    "noise=alls=30:allf=t",
    "-pix_fmt",
    "yuv420p",
    "-b:v",
    "3M",
    temp,
  ]);
  renameSync(temp, path);
  return path;
}

/** A real transport that records what went over the wire (not a mock: every request is sent). */
export class RecordingTransport implements HttpTransport {
  readonly sent: Array<{ method: string; url: string; status: number | string }> = [];
  constructor(readonly inner: HttpTransport = new UndiciTransport()) {}
  async request(request: HttpRequest): Promise<HttpResponse> {
    try {
      const response = await this.inner.request(request);
      this.sent.push({ method: request.method, url: request.url, status: response.status });
      return response;
    } catch (error) {
      this.sent.push({
        method: request.method,
        url: request.url,
        status: (error as { code?: string }).code ?? "?",
      });
      throw error;
    }
  }
  count(method: string, pathPart: string): number {
    return this.sent.filter((r) => r.method === method && r.url.includes(pathPart)).length;
  }
}

export function waitForEvent<T>(
  subscribe: (listener: (value: T) => void) => () => void,
  test: (value: T) => boolean,
) {
  return new Promise<T>((resolve) => {
    const off = subscribe((value) => {
      if (test(value)) {
        off();
        resolve(value);
      }
    });
  });
}

export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** After a cancel: nothing of the upload on the server's disk, and no request of the client still open. */
export async function expectFullyCleaned(upload: Upload, dataDir: string): Promise<void> {
  expect(upload.activeRequests).toBe(0);
  // Each test has its own server, so anything at all under uploads/ or videos/ is a leftover.
  expect(await leftovers(dataDir, upload.id)).toEqual([]);
}
