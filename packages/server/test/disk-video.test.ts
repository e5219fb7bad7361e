import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KiB, type UploadHandle } from "@cleancut/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeCompletedUpload } from "../src/cancel/purge.js";
import { runFfprobe } from "../src/complete/ffprobe.js";
import { newId } from "../src/ids.js";
import { DiskStore } from "../src/stores/disk-store.js";

const never = new AbortController().signal;
const segmentSize = 64 * KiB;
const purge = { tries: 2, backoff: { baseMs: 10, maxMs: 50 }, concurrency: 4 };
let dataDir: string;
let store: DiskStore;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "cleancut-disk-video-"));
  store = new DiskStore(dataDir);
  await store.init();
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function storeFile(bytes: Buffer): Promise<UploadHandle> {
  const id = newId();
  const upload = { id, storageRef: await store.beginUpload(id, "video/mp4", never) };
  for (let index = 0; index * segmentSize < bytes.length; index++) {
    const part = bytes.subarray(index * segmentSize, (index + 1) * segmentSize);
    await store.writeSegment(
      upload,
      { index, size: part.length },
      (async function* () {
        yield part;
      })(),
      never,
    );
  }
  return upload;
}

describe("a video on disk is a folder of links to its segment files", () => {
  it("joins without copying: each part is the segment's own file, and it outlives the upload's cleanup", async () => {
    const bytes = randomBytes(3 * segmentSize + 123);
    const upload = await storeFile(bytes);
    const segments = await store.listSegments(upload, never);
    const video = await store.assemble(upload, segments, newId(), never);
    expect(video).toMatchObject({ size: bytes.length, sha256: sha256Of(bytes) });

    const folder = join(dataDir, "videos", `${video.key}.video`);
    const parts = (await readdir(folder)).filter((name) => name.endsWith(".part")).sort();
    expect(parts).toHaveLength(4);
    const segmentFiles = (await readdir(store.uploadDir(upload.id)))
      .filter((name) => name.endsWith(".seg"))
      .sort();
    for (const [position, part] of parts.entries()) {
      const linked = await stat(join(folder, part));
      const segment = await stat(join(store.uploadDir(upload.id), segmentFiles[position] as string));
      expect(linked.ino).toBe(segment.ino);
    }

    const cleanup = await purgeCompletedUpload(store, upload, purge, never);
    expect(cleanup.remnants).toEqual([]);
    expect((await stat(join(folder, parts[0] as string))).nlink).toBe(1);
    expect((await collect(await store.readVideo(video.key, undefined, never))).equals(bytes)).toBe(true);
    // A range across a part boundary.
    const range = { start: segmentSize - 5, end: 2 * segmentSize + 4 };
    const slice = await collect(await store.readVideo(video.key, range, never));
    expect(slice.equals(bytes.subarray(range.start, range.end + 1))).toBe(true);
    await store.deleteVideo(video.key, never);
    expect(await store.statVideo(video.key, never)).toBeUndefined();
    expect(await readdir(join(dataDir, "videos"))).not.toContain(`${video.key}.video`);
  });

  it("ffprobe reads the folder as one file through its probe location", async () => {
    const path = process.env.CLEANCUT_TEST_VIDEO;
    if (path === undefined) throw new Error("CLEANCUT_TEST_VIDEO is not set: the global setup did not run");
    const bytes = await readFile(path);
    const upload = await storeFile(bytes);
    const video = await store.assemble(upload, await store.listSegments(upload, never), newId(), never);
    expect(store.probeLocation(video.key)).toMatch(/^concatf:/);
    const probe = await runFfprobe("ffprobe", store.probeLocation(video.key), never);
    expect(probe).toMatchObject({ hasVideoStream: true, probe: { width: 640, height: 360 } });
    await store.deleteVideo(video.key, never);
    await purgeCompletedUpload(store, upload, purge, never);
  });

  it("a folder whose delete was cut off still counts as a video with what is left, until deleted", async () => {
    const bytes = randomBytes(2 * segmentSize);
    const upload = await storeFile(bytes);
    const video = await store.assemble(upload, await store.listSegments(upload, never), newId(), never);
    await purgeCompletedUpload(store, upload, purge, never);
    const folder = join(dataDir, "videos", `${video.key}.video`);
    await rm(join(folder, "manifest.json"));
    await rm(join(folder, "000000.part"));
    expect(await store.statVideo(video.key, never)).toBeGreaterThanOrEqual(segmentSize);
    const listed = (await store.listStoredEntries(never)).find((entry) => entry.videoKey === video.key);
    expect(listed?.bytes).toBeGreaterThanOrEqual(segmentSize);
    await store.deleteVideo(video.key, never);
    expect(await store.statVideo(video.key, never)).toBeUndefined();
  });

  it("a video joined as one file (before videos were folders) is still read, listed and deleted", async () => {
    const bytes = randomBytes(5000);
    const key = newId();
    await writeFile(join(dataDir, "videos", `${key}.video`), bytes);
    expect(await store.statVideo(key, never)).toBe(bytes.length);
    const slice = await collect(await store.readVideo(key, { start: 10, end: 19 }, never));
    expect(slice.equals(bytes.subarray(10, 20))).toBe(true);
    expect(store.probeLocation(key)).toBe(join(dataDir, "videos", `${key}.video`));
    const listed = (await store.listStoredEntries(never)).find((entry) => entry.videoKey === key);
    expect(listed).toMatchObject({ kind: "video", bytes: bytes.length });
    await store.deleteVideo(key, never);
    expect(await store.statVideo(key, never)).toBeUndefined();
  });
});
