import { mkdtemp, readdir, readlink, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CleancutServer,
  type CleancutServerOptions,
  FaultInjectingStore,
  startServer,
} from "../../src/index.js";

export interface TestServer {
  server: CleancutServer;
  url: string;
  dataDir: string;
  faults: FaultInjectingStore;
  close(): Promise<void>;
}

/**
 * A real server on 127.0.0.1 with its real store (disk by default, S3 with `storage: "s3"`)
 * behind a fault layer that is off until told, and real SQLite (or PostgreSQL with `databaseUrl`).
 */
export async function startTestServer(
  options: CleancutServerOptions & { dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "cleancut-test-")));
  let faults: FaultInjectingStore | undefined;
  const server = await startServer({
    port: 0,
    logLevel: "silent",
    sweepIntervalMs: 50,
    cleanupRetry: { baseMs: 20, maxMs: 200 },
    wrapStore: (inner) => {
      faults = new FaultInjectingStore(inner);
      return faults;
    },
    ...options,
    dataDir,
  });
  if (faults === undefined) throw new Error("the server did not build its store through wrapStore");
  return {
    server,
    url: server.url,
    dataDir,
    faults,
    async close() {
      await server.close();
    },
  };
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Every file under `dir`, with its size. */
export async function filesUnder(dir: string): Promise<Array<{ path: string; size: number }>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files: Array<{ path: string; size: number }> = [];
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path).catch(() => undefined);
    if (info !== undefined) files.push({ path, size: info.size });
  }
  return files;
}

/**
 * What is left of uploads and videos on disk: every file under `uploads/`, the upload's own
 * folder if it still exists, and every video under `videos/` as one entry (a video is a
 * folder of parts; an empty one is still a leftover). The database files are not upload bytes.
 */
export async function leftovers(dataDir: string, uploadId?: string): Promise<string[]> {
  const names = (await filesUnder(join(dataDir, "uploads"))).map((file) => `${file.path} (${file.size} B)`);
  if (uploadId !== undefined) {
    const folder = await stat(join(dataDir, "uploads", uploadId)).catch(() => undefined);
    if (folder !== undefined) names.push(`${join(dataDir, "uploads", uploadId)}/ (folder)`);
  }
  return [...names, ...(await videosUnder(join(dataDir, "videos")))];
}

/** One line per video (file or folder) under `dir`, with its size in bytes. */
async function videosUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const names: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (!entry.isDirectory()) {
      names.push(`${path} (${(await stat(path).catch(() => undefined))?.size ?? 0} B)`);
      continue;
    }
    const parts = await filesUnder(path);
    const bytes = parts.reduce((sum, part) => sum + part.size, 0);
    names.push(`${path}/ (${bytes} B in ${parts.length} files)`);
  }
  return names;
}

/** File descriptors this process holds open on anything under `dir` (Linux /proc). */
export async function openFdsUnder(dir: string): Promise<string[]> {
  const fds = await readdir("/proc/self/fd");
  const targets = await Promise.all(fds.map((fd) => readlink(join("/proc/self/fd", fd)).catch(() => "")));
  return targets.filter((target) => target.startsWith(dir));
}
