import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { KiB, MiB, type SegmentStore, type UploadHandle, type VideoStore } from "@cleancut/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { purgeCompletedUpload, purgeUploadStorage } from "../src/cancel/purge.js";
import { newId } from "../src/ids.js";
import { DiskStore } from "../src/stores/disk-store.js";
import { S3Store } from "../src/stores/s3-store.js";
import { ensureSwift, type SwiftS3 } from "./support/swift.js";

type Store = SegmentStore & VideoStore;

interface StoreUnderTest {
  store: Store;
  /** A segment size inside the store's limits. */
  segmentSize: number;
  /** Extra checks, straight against the storage, that nothing of the upload is left. */
  assertNothingLeft(upload: UploadHandle): Promise<void>;
  close(): Promise<void>;
}

const never = new AbortController().signal;
/** Purge settings for these tests: few, quick retries. */
const quickPurge = { tries: 2, backoff: { baseMs: 10, maxMs: 50 }, concurrency: 4 };

const sha256Of = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function* chunksOf(bytes: Uint8Array, chunk = 64 * KiB): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += chunk) yield bytes.subarray(offset, offset + chunk);
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function diskStore(): Promise<StoreUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), "cleancut-conformance-"));
  const store = new DiskStore(dir);
  await store.init();
  return {
    store,
    segmentSize: 64 * KiB,
    async assertNothingLeft(upload) {
      await expect(
        import("node:fs/promises").then((fs) => fs.stat(store.uploadDir(upload.id))),
      ).rejects.toThrow();
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * What Swift holds, below the S3 API, in the hidden `<bucket>+segments` container where s3api
 * keeps parts. Asked of the container server directly (start.sh's one-device ring, hash
 * prefix/suffix `cleancut-test`, account AUTH_test): tempauth tokens need a memcached, which
 * the test node does not run.
 */
async function swiftSegmentObjects(bucket: string, prefix: string): Promise<string[]> {
  const account = "AUTH_test";
  const container = `${bucket}+segments`;
  const digest = createHash("md5").update(`cleancut-test/${account}/${container}cleancut-test`).digest();
  const partition = digest.readUInt32BE(0) >>> (32 - 8);
  const url = `http://127.0.0.1:18082/d1/${partition}/${account}/${encodeURIComponent(container)}?format=json&prefix=${encodeURIComponent(prefix)}`;
  const listing = await fetch(url);
  if (listing.status === 404) return [];
  if (!listing.ok) throw new Error(`container server answered ${listing.status} for ${url}`);
  const objects = (await listing.json()) as Array<{ name: string; bytes: number }>;
  return objects.map((object) => `${object.name} (${object.bytes} B)`);
}

async function s3Store(): Promise<StoreUnderTest & { s3: SwiftS3; client: S3Client; bucket: string }> {
  const s3 = await ensureSwift();
  const bucket = `cleancut-conformance-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  const store = new S3Store({
    bucket,
    endpoint: s3.endpoint,
    region: s3.region,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    discard: { rounds: 10, backoff: { baseMs: 50, maxMs: 500 } },
  });
  const client = store.client;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    s3,
    client,
    bucket,
    store,
    segmentSize: 5 * MiB,
    async assertNothingLeft(upload) {
      const key = store.objectKey(upload.id);
      // No object at the key,
      await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).rejects.toMatchObject({
        name: "NotFound",
      });
      // no multipart upload in progress for it,
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      expect(uploads.Uploads ?? []).toEqual([]);
      // and its UploadId is gone.
      await expect(
        client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: upload.storageRef })),
      ).rejects.toMatchObject({ name: "NoSuchUpload" });
    },
    async close() {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      for (const object of listed.Contents ?? []) {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
      }
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      for (const upload of uploads.Uploads ?? []) {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
      }
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    },
  };
}

const stores: Array<[string, () => Promise<StoreUnderTest>]> = [
  ["DiskStore", diskStore],
  ["S3Store (Swift s3api)", s3Store],
];

describe.each(stores)("SegmentStore conformance: %s", (_name, make) => {
  let t: StoreUnderTest;
  let store: Store;

  beforeAll(async () => {
    t = await make();
    store = t.store;
  }, 600_000);

  afterAll(async () => {
    await t?.close();
  });

  async function begin(): Promise<UploadHandle> {
    const id = newId();
    return { id, storageRef: await store.beginUpload(id, "video/mp4", never) };
  }

  async function writeAll(upload: UploadHandle, segments: readonly Buffer[]) {
    const stored = [];
    for (const [index, bytes] of segments.entries()) {
      stored.push(
        await store.writeSegment(
          upload,
          { index, size: bytes.length, sha256: sha256Of(bytes) },
          chunksOf(bytes),
          never,
        ),
      );
    }
    return stored;
  }

  const indexed = (remnants: Awaited<ReturnType<Store["listRemnants"]>>) =>
    remnants.filter((remnant) => remnant.index !== undefined || remnant.size > 0);

  it("writes segments of exact sizes and lists them with their SHA-256", async () => {
    const upload = await begin();
    const segments = [randomBytes(t.segmentSize), randomBytes(t.segmentSize), randomBytes(t.segmentSize / 2)];
    const stored = await writeAll(upload, segments);
    const expected = segments.map((bytes, index) => ({ index, size: bytes.length, sha256: sha256Of(bytes) }));
    expect(stored).toEqual(expected);
    expect(await store.listSegments(upload, never)).toEqual(expected);
    await store.discardUpload(upload, never);
  });

  it("refuses a body that is too long or too short, and nothing becomes visible", async () => {
    const upload = await begin();
    const size = t.segmentSize;
    await expect(
      store.writeSegment(upload, { index: 0, size }, chunksOf(randomBytes(size + 1)), never),
    ).rejects.toMatchObject({ code: "segment_size_mismatch" });
    await expect(
      store.writeSegment(upload, { index: 1, size }, chunksOf(randomBytes(size - 1)), never),
    ).rejects.toMatchObject({ code: "body_incomplete" });
    const wrong = randomBytes(size);
    await expect(
      store.writeSegment(upload, { index: 2, size, sha256: "0".repeat(64) }, chunksOf(wrong), never),
    ).rejects.toMatchObject({ code: "digest_mismatch" });
    expect(await store.listSegments(upload, never)).toEqual([]);
    expect(indexed(await store.listRemnants(upload, never))).toEqual([]);
    await store.discardUpload(upload, never);
  });

  it("leaves nothing but the upload container when a write is aborted midway", async () => {
    const upload = await begin();
    const size = t.segmentSize;
    const controller = new AbortController();
    const bytes = randomBytes(size);
    let sent = 0;
    const slow = async function* () {
      for await (const chunk of chunksOf(bytes, 16 * KiB)) {
        if (sent >= size / 2) {
          controller.abort(new Error("cancelled by the test"));
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        sent += chunk.length;
        yield chunk;
      }
    };
    await expect(store.writeSegment(upload, { index: 0, size }, slow(), controller.signal)).rejects.toThrow(
      "cancelled by the test",
    );
    expect(await store.listSegments(upload, never)).toEqual([]);
    const remnants = await store.listRemnants(upload, never);
    expect(indexed(remnants)).toEqual([]);
    expect(remnants.length).toBeLessThanOrEqual(1);
    await store.discardUpload(upload, never);
    expect(await store.listRemnants(upload, never)).toEqual([]);
  });

  it("assembles the video; statVideo and readVideo (with a range) match the bytes", async () => {
    const upload = await begin();
    const segments = [randomBytes(t.segmentSize), randomBytes(t.segmentSize), randomBytes(1000)];
    const whole = Buffer.concat(segments);
    const stored = await writeAll(upload, segments);
    const video = await store.assemble(upload, stored, newId(), never);
    expect(video).toMatchObject({ size: whole.length, sha256: sha256Of(whole) });
    expect(await store.statVideo(video.key, never)).toBe(whole.length);
    expect(sha256Of(await collect(await store.readVideo(video.key, undefined, never)))).toBe(sha256Of(whole));
    const range = { start: t.segmentSize - 10, end: t.segmentSize + 9 };
    const part = await collect(await store.readVideo(video.key, range, never));
    expect(part.equals(whole.subarray(range.start, range.end + 1))).toBe(true);
    // The completed upload's own cleanup must not take the video with it.
    const purge = await purgeUploadStorage(store, upload, quickPurge, never);
    expect(purge.failures).toEqual([]);
    expect(await store.statVideo(video.key, never)).toBe(whole.length);
    await store.deleteVideo(video.key, never);
    await store.deleteVideo(video.key, never);
    expect(await store.statVideo(video.key, never)).toBeUndefined();
  });

  it("assembles the segments listSegments returned; the completed purge removes a partial segment, keeps the video", async () => {
    const upload = await begin();
    const segments = [randomBytes(t.segmentSize), randomBytes(1000)];
    const whole = Buffer.concat(segments);
    await writeAll(upload, segments);
    await store.savePartialSegment(upload, 2, randomBytes(100), never);
    const listed = await store.listSegments(upload, never);
    const video = await store.assemble(upload, listed, newId(), never);
    expect(video).toMatchObject({ size: whole.length, sha256: sha256Of(whole) });
    const purge = await purgeCompletedUpload(store, upload, quickPurge, never);
    expect(purge.failures).toEqual([]);
    expect(purge.remnants).toEqual([]);
    expect(await store.loadPartialSegment(upload, never)).toBeUndefined();
    expect(sha256Of(await collect(await store.readVideo(video.key, undefined, never)))).toBe(sha256Of(whole));
    await store.deleteVideo(video.key, never);
    await t.assertNothingLeft(upload);
  });

  it("a segment sent again after it was listed is not joined unchecked", async () => {
    const upload = await begin();
    const segments = [randomBytes(t.segmentSize), randomBytes(1000)];
    await writeAll(upload, segments);
    const listed = await store.listSegments(upload, never);
    const again = randomBytes(1000);
    await store.writeSegment(
      upload,
      { index: 1, size: again.length, sha256: sha256Of(again) },
      chunksOf(again),
      never,
    );
    // Either refused (S3: the listed ETag is gone) or joined with what is stored now, hashed as such.
    const video = await store.assemble(upload, listed, newId(), never).catch((error: unknown) => error);
    if (video instanceof Error) {
      // S3: CompleteMultipartUpload refuses the listed ETag (InvalidPart).
      if (store.kind === "s3") expect(video).toMatchObject({ code: "segments_missing" });
    } else {
      const joined = await collect(await store.readVideo((video as { key: string }).key, undefined, never));
      expect((video as { sha256: string }).sha256).toBe(sha256Of(joined));
      await store.deleteVideo((video as { key: string }).key, never);
    }
    await purgeUploadStorage(store, upload, quickPurge, never);
    await t.assertNothingLeft(upload);
  });

  it("listStoredEntries lists segments and the video under their owner ids, and nothing once removed", async () => {
    const upload = await begin();
    const segments = [randomBytes(t.segmentSize), randomBytes(t.segmentSize / 2)];
    const stored = await writeAll(upload, segments);
    const total = segments.reduce((sum, bytes) => sum + bytes.length, 0);
    const before = await store.listStoredEntries(never);
    expect(before.filter((entry) => entry.ownerId === upload.id)).toEqual([
      expect.objectContaining({ owner: "upload", kind: "segments", bytes: total }),
    ]);
    const videoId = newId();
    const video = await store.assemble(upload, stored, videoId, never);
    const after = await store.listStoredEntries(never);
    const videoEntry = after.find((entry) => entry.kind === "video" && entry.videoKey === video.key);
    expect(videoEntry).toMatchObject({ bytes: total, ownerId: store.kind === "disk" ? videoId : upload.id });
    await purgeUploadStorage(
      store,
      upload,
      { tries: 1, backoff: { baseMs: 1, maxMs: 1 }, concurrency: 2 },
      never,
    );
    await store.deleteVideo(video.key, never);
    const gone = await store.listStoredEntries(never);
    expect(gone.filter((entry) => entry.ownerId === upload.id || entry.ownerId === videoId)).toEqual([]);
  });

  it("discardUpload after writes leaves nothing in storage", async () => {
    const upload = await begin();
    await writeAll(upload, [randomBytes(t.segmentSize), randomBytes(t.segmentSize)]);
    if (store.deletesSegmentsIndividually) {
      // Such a store's discardUpload removes only the rest: its segments go one by one first.
      for (const segment of await store.listSegments(upload, never)) {
        await store.deleteSegment(upload, segment.index, never);
      }
    } else {
      // One that cannot delete a segment alone refuses to, and drops them all in discardUpload.
      await expect(store.deleteSegment(upload, 0, never)).rejects.toMatchObject({
        code: "unsupported_operation",
      });
    }
    // What it resolves with, if anything, is its own listing after the deletes: a cleanup
    // takes it as the verification, so it must say what listRemnants says.
    const listed = await store.discardUpload(upload, never);
    expect(await store.listSegments(upload, never)).toEqual([]);
    expect(await store.listRemnants(upload, never)).toEqual([]);
    if (listed !== undefined) expect(listed).toEqual([]);
    await t.assertNothingLeft(upload);
    await store.discardUpload(upload, never);
  });

  it("purge counts the segments it removed from the listings, and verifies nothing is left", async () => {
    const upload = await begin();
    const segments = [randomBytes(t.segmentSize), randomBytes(t.segmentSize / 2)];
    await writeAll(upload, segments);
    const purge = await purgeUploadStorage(store, upload, quickPurge, never);
    expect(purge).toEqual({
      deletedSegments: 2,
      deletedBytes: segments[0]!.length + segments[1]!.length,
      failures: [],
      remnants: [],
    });
    await t.assertNothingLeft(upload);
  });

  describe("partial segment", () => {
    const mine = (entries: Awaited<ReturnType<Store["listStoredEntries"]>>, upload: UploadHandle) =>
      entries.filter((entry) => entry.ownerId === upload.id && entry.kind === "temp");

    it("loads what was saved; a save with another index replaces it, and only one is kept", async () => {
      const upload = await begin();
      expect(await store.loadPartialSegment(upload, never)).toBeUndefined();
      const empty = await store.listRemnants(upload, never);
      const first = randomBytes(1000);
      await store.savePartialSegment(upload, 3, first, never);
      const loaded = await store.loadPartialSegment(upload, never);
      expect(loaded?.index).toBe(3);
      expect(Buffer.from(loaded!.bytes).equals(first)).toBe(true);
      const withFirst = await store.listRemnants(upload, never);
      // Counted without the disk store's placeholder for an empty folder.
      const counted = (remnants: typeof empty) => remnants.filter((remnant) => remnant.name !== ".");
      expect(counted(withFirst).length).toBe(counted(empty).length + 1);

      const second = randomBytes(2500);
      await store.savePartialSegment(upload, 4, second, never);
      const replaced = await store.loadPartialSegment(upload, never);
      expect(replaced?.index).toBe(4);
      expect(Buffer.from(replaced!.bytes).equals(second)).toBe(true);
      const withSecond = await store.listRemnants(upload, never);
      expect(counted(withSecond).length).toBe(counted(withFirst).length);
      expect(withSecond.filter((remnant) => remnant.index !== undefined)).toEqual([]);
      await store.discardUpload(upload, never);
    });

    it("is not a segment: listRemnants and listStoredEntries (temp, under the upload id) list it", async () => {
      const upload = await begin();
      const segment = randomBytes(t.segmentSize);
      await writeAll(upload, [segment]);
      const bytes = randomBytes(4321);
      await store.savePartialSegment(upload, 1, bytes, never);
      expect(await store.listSegments(upload, never)).toEqual([
        { index: 0, size: segment.length, sha256: sha256Of(segment) },
      ]);
      const remnants = await store.listRemnants(upload, never);
      expect(remnants.filter((remnant) => remnant.index === undefined && remnant.size > 0)).toEqual([
        expect.objectContaining({ size: expect.any(Number) }),
      ]);
      const temp = mine(await store.listStoredEntries(never), upload);
      expect(temp).toEqual([expect.objectContaining({ owner: "upload", kind: "temp" })]);
      expect(temp[0]!.bytes).toBeGreaterThanOrEqual(bytes.length);
      if (store.deletesSegmentsIndividually) await store.deleteSegment(upload, 0, never);
      await store.discardUpload(upload, never);
    });

    it("deletePartialSegment removes it and is idempotent", async () => {
      const upload = await begin();
      const before = await store.listRemnants(upload, never);
      await store.savePartialSegment(upload, 0, randomBytes(100), never);
      await store.deletePartialSegment(upload, never);
      expect(await store.loadPartialSegment(upload, never)).toBeUndefined();
      expect(await store.listRemnants(upload, never)).toEqual(before);
      expect(mine(await store.listStoredEntries(never), upload)).toEqual([]);
      await store.deletePartialSegment(upload, never);
      await store.discardUpload(upload, never);
    });

    it("discardUpload removes it with the rest, and leaves nothing", async () => {
      const upload = await begin();
      await store.savePartialSegment(upload, 0, randomBytes(2000), never);
      await store.discardUpload(upload, never);
      expect(await store.listRemnants(upload, never)).toEqual([]);
      expect(await store.loadPartialSegment(upload, never)).toBeUndefined();
      expect((await store.listStoredEntries(never)).filter((entry) => entry.ownerId === upload.id)).toEqual(
        [],
      );
      await t.assertNothingLeft(upload);
    });

    it("an already-aborted signal rejects and leaves nothing", async () => {
      const upload = await begin();
      const before = await store.listRemnants(upload, never);
      const aborted = AbortSignal.abort(new Error("cancelled by the test"));
      await expect(store.savePartialSegment(upload, 0, randomBytes(1000), aborted)).rejects.toThrow(
        "cancelled by the test",
      );
      await expect(store.loadPartialSegment(upload, aborted)).rejects.toThrow("cancelled by the test");
      await expect(store.deletePartialSegment(upload, aborted)).rejects.toThrow("cancelled by the test");
      expect(await store.loadPartialSegment(upload, never)).toBeUndefined();
      expect(await store.listRemnants(upload, never)).toEqual(before);
      await store.discardUpload(upload, never);
      expect(await store.listRemnants(upload, never)).toEqual([]);
    });
  });

  it("deleteVideo is idempotent for a video that never existed", async () => {
    const upload = await begin();
    const key = store instanceof S3Store ? store.objectKey(upload.id) : newId();
    await store.deleteVideo(key, never);
    await store.deleteVideo(key, never);
    expect(await store.statVideo(key, never)).toBeUndefined();
    await store.discardUpload(upload, never);
  });
});

describe("S3Store against Swift: a part that lands after AbortMultipartUpload", () => {
  let t: Awaited<ReturnType<typeof s3Store>>;

  beforeAll(async () => {
    t = await s3Store();
  }, 600_000);

  afterAll(async () => {
    await t?.close();
  });

  it("discardUpload's abort-and-verify loop still ends with nothing left", async () => {
    const store = t.store as S3Store;
    const id = newId();
    const upload = { id, storageRef: await store.beginUpload(id, "video/mp4", never) };
    const key = store.objectKey(id);
    const size = 5 * MiB;
    const bytes = randomBytes(size);
    let sent = 0;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reachedHalfway: () => void = () => {};
    const halfway = new Promise<void>((resolve) => {
      reachedHalfway = resolve;
    });
    const slow = async function* () {
      for await (const chunk of chunksOf(bytes, 256 * KiB)) {
        if (sent >= size / 2) {
          reachedHalfway();
          await released;
        }
        sent += chunk.length;
        yield chunk;
      }
    };
    const writing = store.writeSegment(upload, { index: 0, size, sha256: sha256Of(bytes) }, slow(), never);
    await halfway;
    // The multipart upload is aborted while the part is still streaming ...
    await t.client.send(
      new AbortMultipartUploadCommand({ Bucket: t.bucket, Key: key, UploadId: upload.storageRef }),
    );
    // ... and then the part finishes: S3 accepts it after the abort.
    release();
    const late = await writing.then(
      (segment) => ({ landed: true as const, segment }),
      (error: unknown) => ({ landed: false as const, error }),
    );
    await store.discardUpload(upload, never);
    expect(await store.listRemnants(upload, never)).toEqual([]);
    await t.assertNothingLeft(upload);
    // What Swift itself still holds, below the S3 API. Swift 2.30's s3api checks the upload
    // only when a part starts, so a part that lands after the abort is written into the
    // hidden `+segments` container, where no S3 call (ListParts, ListMultipartUploads, Abort)
    // can see or delete it. Logged, not asserted: a known limit of this backend, not the store.
    const hidden = await swiftSegmentObjects(t.bucket, `${key}/`);
    console.info(
      `late part: ${late.landed ? "accepted by S3 after the abort" : `refused (${String((late as { error: unknown }).error)})`}; Swift +segments objects left: ${JSON.stringify(hidden)}`,
    );
  });
});

describe("S3Store against Swift: the video's SHA-256 from the bytes that streamed through", () => {
  let t: Awaited<ReturnType<typeof s3Store>>;
  /** Every GetObject the store sent: its Range, or "whole" for a read of the whole object. */
  const gets: string[] = [];
  /** How many of the next HeadObject requests fail, as from a briefly unavailable S3. */
  let failingHeads = 0;

  beforeAll(async () => {
    t = await s3Store();
    t.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "GetObjectCommand") {
          gets.push((args.input as { Range?: string }).Range ?? "whole");
        }
        if (context.commandName === "HeadObjectCommand" && failingHeads > 0) {
          failingHeads -= 1;
          throw Object.assign(new Error("Service Unavailable"), { name: "ServiceUnavailable" });
        }
        return next(args);
      },
      { step: "initialize" },
    );
  }, 600_000);

  afterAll(async () => {
    await t?.close();
  });

  /** Chunks that give other writes a turn between them, so concurrent writes interleave. */
  async function* slowChunksOf(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunksOf(bytes, 256 * KiB)) {
      await new Promise((resolve) => setImmediate(resolve));
      yield chunk;
    }
  }

  const write = (store: S3Store, upload: UploadHandle, index: number, bytes: Buffer) =>
    store.writeSegment(
      upload,
      { index, size: bytes.length, sha256: sha256Of(bytes) },
      slowChunksOf(bytes),
      never,
    );

  it("segments written at once, out of order: complete needs no read of the whole object", async () => {
    const store = t.store as S3Store;
    const id = newId();
    const upload = { id, storageRef: await store.beginUpload(id, "video/mp4", never) };
    const segments = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(3000)];
    const stored = await Promise.all(
      [3, 2, 1, 0].map((index) => write(store, upload, index, segments[index] as Buffer)),
    );
    gets.length = 0;
    const whole = Buffer.concat(segments);
    const video = await store.assemble(upload, stored, newId(), never);
    expect(video).toMatchObject({ size: whole.length, sha256: sha256Of(whole) });
    expect(Buffer.from(video.head ?? []).equals(whole.subarray(0, 4096))).toBe(true);
    expect(gets).not.toContain("whole");
    expect(sha256Of(await collect(await store.readVideo(video.key, undefined, never)))).toBe(sha256Of(whole));
    await store.deleteVideo(video.key, never);
  });

  it("a check of the joined object that fails once is retried: the multipart upload is gone by then", async () => {
    const store = t.store as S3Store;
    const id = newId();
    const upload = { id, storageRef: await store.beginUpload(id, "video/mp4", never) };
    const segments = [randomBytes(5 * MiB), randomBytes(1000)];
    const stored = await Promise.all(segments.map((bytes, index) => write(store, upload, index, bytes)));
    failingHeads = 1;
    const video = await store.assemble(upload, stored, newId(), never);
    expect(failingHeads).toBe(0);
    expect(video).toMatchObject({ size: 5 * MiB + 1000, sha256: sha256Of(Buffer.concat(segments)) });
    await store.deleteVideo(video.key, never);
  });

  it("a segment that went through another instance: complete reads the object back, and its hash is right", async () => {
    const store = t.store as S3Store;
    const other = new S3Store({
      bucket: t.bucket,
      endpoint: t.s3.endpoint,
      region: t.s3.region,
      credentials: { accessKeyId: t.s3.accessKeyId, secretAccessKey: t.s3.secretAccessKey },
    });
    const id = newId();
    const upload = { id, storageRef: await store.beginUpload(id, "video/mp4", never) };
    const segments = [randomBytes(5 * MiB), randomBytes(2000)];
    // As the database records them (this store does not know the other one's part).
    const stored = [
      await write(other, upload, 0, segments[0] as Buffer),
      await write(store, upload, 1, segments[1] as Buffer),
    ];
    gets.length = 0;
    const whole = Buffer.concat(segments);
    const video = await store.assemble(upload, stored, newId(), never);
    expect(video).toMatchObject({ size: whole.length, sha256: sha256Of(whole) });
    expect(gets).toContain("whole");
    await store.deleteVideo(video.key, never);
    other.client.destroy();
  });
});
