// The soak: many uploads at once against one `cleancut serve` process, each either completed
// (then its video deleted, as a user would) or cancelled at a random point, for a bounded time.
// Samples the server's RSS and open descriptors over time and, at the end, lists the data
// folder itself for anything left. Used by bench/soak.mjs (long) and by a test (short).
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ApiClient, createUpload, NodeFileSource, UndiciTransport } from "@cleancut/client/node";
import { getGlobalDispatcher } from "undici";
import { startServerProcess } from "./server-process.mjs";
import { summary } from "./stats.mjs";
import { listTree } from "./storage-listing.mjs";
import { makeVideoLikeFile } from "./video-like-file.mjs";

const KiB = 1024;
const MiB = 1024 * KiB;

async function processSample(pid, url) {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  // The JavaScript heap as the server reports it: tells a leak in our objects from memory the
  // allocator keeps after a peak (RSS alone cannot).
  const metrics = await fetch(`${url}/metrics`)
    .then((response) => response.text())
    .catch(() => "");
  const heap = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(metrics);
  const external = /^nodejs_external_memory_bytes (\S+)$/m.exec(metrics);
  const mib = (match) => (match ? Math.round(Number(match[1]) / 104857.6) / 10 : undefined);
  return {
    rssMiB: rss ? Math.round(Number(rss[1]) / 102.4) / 10 : undefined,
    heapUsedMiB: mib(heap),
    externalMiB: mib(external),
    fds: fds.length,
  };
}

/**
 * Runs `concurrent` workers for `seconds`; each worker uploads one file after another and
 * cancels with probability `cancelRatio` at a random point of its progress.
 */
export async function runSoak({
  concurrent = 200,
  seconds = 600,
  cancelRatio = 0.5,
  seed = Date.now(),
  workDir,
}) {
  let state = seed >>> 0 || 1;
  const random = () => {
    // xorshift32: reproducible from the printed seed.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const files = [];
  for (const size of [1 * MiB, 2 * MiB, 4 * MiB]) {
    const path = join(workDir, `soak-${size}.mp4`);
    await makeVideoLikeFile(path, size);
    files.push({ path, size });
  }
  const server = await startServerProcess(["--no-ffprobe"]);
  const api = new ApiClient(new UndiciTransport(), server.url);
  const samples = [];
  const startedAt = Date.now();
  const deadline = startedAt + seconds * 1000;
  const counts = { completed: 0, cancelled: 0, unverified: 0, failures: 0, videosDeleted: 0 };
  const cancelMs = [];
  const errors = [];
  const sampler = setInterval(async () => {
    samples.push({
      t: Math.round((Date.now() - startedAt) / 1000),
      ...(await processSample(server.pid, server.url)),
    });
  }, 1000);
  samples.push({ t: 0, ...(await processSample(server.pid, server.url)) });

  async function oneUpload() {
    const file = files[Math.floor(random() * files.length)];
    const source = await NodeFileSource.open(file.path);
    const upload = createUpload(source, { endpoint: server.url, segmentSize: 256 * KiB, concurrency: 2 });
    const cancelAt = random() < cancelRatio ? random() : undefined;
    try {
      upload.start();
      if (cancelAt === undefined) {
        const video = await upload.done;
        counts.completed += 1;
        await api.deleteVideo(
          { id: upload.id, token: upload.token },
          video.videoId,
          new AbortController().signal,
        );
        counts.videosDeleted += 1;
        return;
      }
      // Cancel at a random point: from before the create answered to just before the end.
      while (
        upload.bytesSent < cancelAt * file.size &&
        upload.state !== "completed" &&
        upload.state !== "failed"
      ) {
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const started = performance.now();
      const report = await upload.cancel();
      cancelMs.push(performance.now() - started);
      counts.cancelled += 1;
      if (!report.verified) counts.unverified += 1;
    } catch (error) {
      // A cancel that lost the race to a finished upload is not an error of the system, but
      // every other failure is counted and shown.
      if (error?.code === "upload_completed") return;
      counts.failures += 1;
      if (errors.length < 10) errors.push(`${error?.code ?? ""} ${error?.message ?? error}`);
    } finally {
      await source.close();
    }
  }

  await Promise.all(
    Array.from({ length: concurrent }, async () => {
      while (Date.now() < deadline) await oneUpload();
    }),
  );
  clearInterval(sampler);
  // Close the client's keep-alive connections, so the server's descriptors count only what it
  // still holds itself; let it settle (reaper sweeps), then sample once more and list what it holds.
  await getGlobalDispatcher().close();
  await new Promise((resolve) => setTimeout(resolve, 1500));
  samples.push({
    t: Math.round((Date.now() - startedAt) / 1000),
    ...(await processSample(server.pid, server.url)),
  });
  const leftovers = [
    ...(await listTree(join(server.dataDir, "uploads"))).files,
    ...(await listTree(join(server.dataDir, "videos"))).files,
  ];
  const leftoverFolders = (await readdir(join(server.dataDir, "uploads")).catch(() => [])).length;
  await server.stop();
  const elapsed = (Date.now() - startedAt) / 1000;
  const rss = samples.map((sample) => sample.rssMiB).filter((value) => value !== undefined);
  const fds = samples.map((sample) => sample.fds);
  return {
    seed,
    concurrent,
    seconds: Math.round(elapsed),
    ...counts,
    uploadsPerSecond: Math.round(((counts.completed + counts.cancelled) / elapsed) * 10) / 10,
    cancelsPerSecond: Math.round((counts.cancelled / elapsed) * 10) / 10,
    cancelToVerifiedMs: cancelMs.length > 0 ? summary(cancelMs) : undefined,
    serverRssMiB: { first: rss[0], max: Math.max(...rss), last: rss.at(-1) },
    serverFds: { first: fds[0], max: Math.max(...fds), last: fds.at(-1) },
    leftoverFiles: leftovers.length,
    leftoverBytes: leftovers.reduce((sum, file) => sum + file.bytes, 0),
    leftoverFolders,
    errors,
    samples,
    dataDir: server.dataDir,
  };
}
