import { readFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createUpload, NodeFileSource, type Upload } from "../src/node/index.js";
import {
  largeTestVideo,
  RecordingTransport,
  removeDir,
  segmentSize,
  sha256Hex,
  startTestServer,
  type TestServer,
  waitForEvent,
  waitUntil,
} from "./support.js";

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer();
});
afterEach(async () => {
  t.faults.clear();
  await t.close();
  await removeDir(t.dataDir);
});

const afterSegments = (upload: Upload, n: number) => {
  let seen = 0;
  return waitForEvent<unknown>(
    (l) => upload.on("segment", l),
    () => ++seen >= n,
  );
};

describe("pause and resume", () => {
  it("pause() aborts in-flight PUTs; resume() continues from the server's segments, byte-identical", async () => {
    const bytes = await readFile(largeTestVideo());
    const count = Math.ceil(bytes.length / segmentSize);
    const transport = new RecordingTransport();
    const upload = createUpload(await NodeFileSource.open(largeTestVideo()), {
      endpoint: t.url,
      segmentSize,
      concurrency: 2,
      transport,
    });
    const some = afterSegments(upload, 5);
    upload.start();
    await some;
    upload.pause();
    expect(upload.state).toBe("paused");
    await waitUntil(() => upload.activeRequests === 0, "in-flight PUTs to be aborted");
    const held = await upload.getUploadedVideoSegments();
    expect(held.length).toBeGreaterThanOrEqual(5);
    expect(held.length).toBeLessThan(count);
    const okPutsBefore = transport.sent.filter((r) => r.method === "PUT" && r.status === 201).length;

    upload.resume();
    const video = await upload.done;
    expect(video.sha256).toBe(sha256Hex(bytes));
    const okPuts = transport.sent.filter((r) => r.method === "PUT" && r.status === 201).length;
    // The resumed run sent only what the server did not hold.
    expect(okPuts - okPutsBefore).toBe(count - held.length);
    expect(transport.count("GET", "/segments")).toBeGreaterThanOrEqual(2);
  });

  it("resumeFrom continues another Upload's work in a new Upload, byte-identical", async () => {
    const bytes = await readFile(largeTestVideo());
    const count = Math.ceil(bytes.length / segmentSize);
    const first = createUpload(await NodeFileSource.open(largeTestVideo()), {
      endpoint: t.url,
      segmentSize,
      concurrency: 1,
    });
    const three = afterSegments(first, 3);
    first.start();
    await three;
    first.pause(); // a crash, as far as the server knows: the process just stops sending
    await waitUntil(() => first.activeRequests === 0, "the first upload to stop");
    const ref = { id: first.id as string, token: first.token as string };

    const transport = new RecordingTransport();
    const second = createUpload(await NodeFileSource.open(largeTestVideo()), {
      endpoint: t.url,
      transport,
      resumeFrom: ref,
    });
    const sentIndexes: number[] = [];
    second.on("segment", (s) => sentIndexes.push(s.index));
    const video = await second.start().done;
    expect(video).toMatchObject({ uploadId: ref.id, sha256: sha256Hex(bytes) });
    expect(transport.count("POST", "/v1/uploads")).toBe(1); // only /complete, no new upload
    expect(sentIndexes.length).toBeLessThanOrEqual(count - 3);
    expect(sentIndexes).not.toContain(0);
  });

  it("resumeFrom refuses a different file", async () => {
    const first = createUpload(await NodeFileSource.open(largeTestVideo()), { endpoint: t.url, segmentSize });
    first.start().pause();
    await waitUntil(() => first.id !== undefined, "create");
    const other = await NodeFileSource.open(process.env.CLEANCUT_TEST_VIDEO as string);
    const second = createUpload(other, {
      endpoint: t.url,
      resumeFrom: { id: first.id as string, token: first.token as string },
    });
    await expect(second.start().done).rejects.toMatchObject({ code: "file_mismatch" });
    expect(other.closed).toBe(true);
    await first.cancel();
  });
});
