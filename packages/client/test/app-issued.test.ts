import { readFile, stat } from "node:fs/promises";
import { basename } from "node:path";
import { FileMismatchError } from "@cleancut/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createUpload, NodeFileSource, type UploadRef } from "../src/node/index.js";
import {
  expectFullyCleaned,
  largeTestVideo,
  leftovers,
  RecordingTransport,
  removeDir,
  segmentSize,
  sha256Hex,
  startTestServer,
  type TestServer,
  testVideo,
  waitForEvent,
} from "./support.js";

// The app's backend creates the upload server-to-server with the API key; the browser (here:
// the SDK) only ever gets the upload's id and token.
const apiKey = "app-issued-test-key";

let t: TestServer;
beforeEach(async () => {
  t = await startTestServer({ apiKey });
});
afterEach(async () => {
  await t.close();
  await removeDir(t.dataDir);
});

/** What the app's backend does: a plain fetch with the API key, no SDK. */
async function createOnBackend(path: string): Promise<UploadRef> {
  const response = await fetch(`${t.url}/v1/uploads`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({
      filename: basename(path),
      size: (await stat(path)).size,
      contentType: "video/mp4",
      segmentSize,
    }),
  });
  expect(response.status).toBe(201);
  const { id, token } = (await response.json()) as UploadRef;
  return { id, token };
}

describe("createUpload(source, { upload }): an upload the app's backend created", () => {
  it("sends the file's bytes into it: byte-identical, no second upload created", async () => {
    const path = largeTestVideo();
    const ref = await createOnBackend(path);
    const transport = new RecordingTransport();
    const upload = createUpload(await NodeFileSource.open(path), { endpoint: t.url, upload: ref, transport });
    const video = await upload.start().done;
    expect(video).toMatchObject({ uploadId: ref.id, sha256: sha256Hex(await readFile(path)) });
    expect(upload.id).toBe(ref.id);
    // Only /complete was POSTed: the SDK never created an upload (it has no API key to do so).
    expect(transport.sent.filter((r) => r.method === "POST").map((r) => new URL(r.url).pathname)).toEqual([
      `/v1/uploads/${ref.id}/complete`,
    ]);
  });

  it("cancel mid-way deletes every segment, verified; nothing is left", async () => {
    const path = largeTestVideo();
    const ref = await createOnBackend(path);
    const upload = createUpload(await NodeFileSource.open(path), {
      endpoint: t.url,
      upload: ref,
      concurrency: 2,
    });
    let stored = 0;
    const some = waitForEvent<unknown>(
      (l) => upload.on("segment", l),
      () => ++stored >= 3,
    );
    upload.start();
    await some;
    const report = await upload.cancel();
    expect(report).toMatchObject({ id: ref.id, verified: true, remainingSegments: 0 });
    expect(report.deletedSegments).toBeGreaterThanOrEqual(3);
    await expectFullyCleaned(upload, t.dataDir);
  });

  it("a file of another size fails with file_mismatch before sending a byte", async () => {
    const ref = await createOnBackend(largeTestVideo());
    const other = await NodeFileSource.open(testVideo());
    const transport = new RecordingTransport();
    const upload = createUpload(other, { endpoint: t.url, upload: ref, transport });
    const error = await upload.start().done.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FileMismatchError);
    expect(error).toMatchObject({
      code: "file_mismatch",
      details: { uploadId: ref.id, expected: { size: (await stat(largeTestVideo())).size } },
    });
    expect(upload.state).toBe("failed");
    expect(other.closed).toBe(true);
    expect(upload.activeRequests).toBe(0);
    expect(transport.count("PUT", "/segments/")).toBe(0);
    // Nothing stored, and the app's upload still takes the right file (the person picked the wrong one).
    expect(await leftovers(t.dataDir)).toEqual([]);
    const right = createUpload(await NodeFileSource.open(largeTestVideo()), { endpoint: t.url, upload: ref });
    await expect(right.start().done).resolves.toMatchObject({ uploadId: ref.id });
  });

  it("resumeFrom is the same option under its earlier name; naming two uploads is refused", async () => {
    const ref = await createOnBackend(testVideo());
    const upload = createUpload(await NodeFileSource.open(testVideo()), { endpoint: t.url, resumeFrom: ref });
    await expect(upload.start().done).resolves.toMatchObject({ uploadId: ref.id });
    const source = await NodeFileSource.open(testVideo());
    expect(() =>
      createUpload(source, { endpoint: t.url, upload: ref, resumeFrom: { id: "other", token: "x" } }),
    ).toThrow(TypeError);
    await source.close();
  });
});
