import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { uploadEventTypes } from "@cleancut/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, contentDigest, randomFile, sha256Hex, sliceSegment } from "./support/api.js";
import { filesUnder, leftovers, removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { waitFor } from "./support/wait.js";

const KiB = 1024;
let t: TestServer;
let api: Api;

beforeAll(async () => {
  t = await startTestServer();
  api = new Api(t.url);
});
afterAll(async () => {
  await t.close();
  await removeDir(t.dataDir);
});

describe("POST /v1/uploads", () => {
  it("creates an upload with a token and the segment layout", async () => {
    const response = await api.call("POST", "/v1/uploads", {
      json: { filename: "a.mp4", size: 200 * KiB, contentType: "video/mp4", segmentSize: 64 * KiB },
    });
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ segmentSize: 64 * KiB, segmentCount: 4 });
    expect(response.body.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(response.body.token.length).toBeGreaterThanOrEqual(43);
    expect(Date.parse(response.body.expiresAt)).toBeGreaterThan(Date.now());
  });

  it("a client that goes away before the 201 reached it: the server cancels what it made, verified", async () => {
    const signal = new AbortController().signal;
    const before = await t.server.repository.countUploadsByState(signal);
    const callsBefore = t.faults.calls("beginUpload");
    t.faults.inject("beginUpload", { kind: "delay", ms: 500 });
    try {
      const client = new AbortController();
      const creation = fetch(`${t.url}/v1/uploads`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: "a.mp4", size: 200 * KiB, contentType: "video/mp4" }),
        signal: client.signal,
      }).catch(() => undefined);
      // Gone while the server prepares storage for it: the upload exists, its 201 not yet.
      await expect.poll(() => t.faults.calls("beginUpload"), { interval: 5 }).toBe(callsBefore + 1);
      client.abort();
      await creation;
    } finally {
      t.faults.clear();
    }
    // Nobody learnt its id: no upload may stay open, waiting for its expiry.
    await expect
      .poll(async () => (await t.server.repository.countUploadsByState(signal)).cancelled, { timeout: 5000 })
      .toBe(before.cancelled + 1);
    expect((await t.server.repository.countUploadsByState(signal)).uploading).toBe(before.uploading);
  });

  it("defaults to 8 MiB segments", async () => {
    const created = await api.create(20 * 1024 * KiB);
    expect(created).toMatchObject({ segmentSize: 8 * 1024 * KiB, segmentCount: 3 });
  });

  it.each([
    [{ size: 10, contentType: "video/mp4" }, 400, "invalid_request"],
    [{ filename: "a.mp4", size: -1, contentType: "video/mp4" }, 400, "invalid_request"],
    [{ filename: "a.mp4", size: 1.5, contentType: "video/mp4" }, 400, "invalid_request"],
    [{ filename: "a.mp4", size: 10, contentType: "text/html" }, 415, "unsupported_content_type"],
    [{ filename: "a\u0000.mp4", size: 10, contentType: "video/mp4" }, 400, "invalid_request"],
    [
      { filename: "a.mp4", size: 10, contentType: "video/mp4", segmentSize: 1024 },
      400,
      "invalid_segment_size",
    ],
    [
      { filename: "a.mp4", size: 10, contentType: "video/mp4", segmentSize: 65 * 1024 * KiB },
      400,
      "invalid_segment_size",
    ],
    [{ filename: "a.mp4", size: 2 ** 50, contentType: "video/mp4" }, 413, "upload_too_large"],
    [{ filename: "a.mp4", size: 10, contentType: "video/mp4", extra: 1 }, 400, "invalid_request"],
  ])("refuses %j with %i %s and stores nothing", async (json, status, code) => {
    const before = await leftovers(t.dataDir);
    const response = await api.call("POST", "/v1/uploads", { json });
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toEqual(expect.any(String));
    expect(await leftovers(t.dataDir)).toEqual(before);
  });

  it("answers malformed JSON with invalid_request, not a 500", async () => {
    const response = await api.call("POST", "/v1/uploads", {
      body: new TextEncoder().encode("{nope"),
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_request");
  });
});

describe("API key", () => {
  it("guards creation and listing when the server has one", async () => {
    const guarded = await startTestServer({ apiKey: "s3cret-key" });
    const guardedApi = new Api(guarded.url);
    try {
      const json = { filename: "a.mp4", size: 10, contentType: "video/mp4" };
      expect((await guardedApi.call("POST", "/v1/uploads", { json })).body.error.code).toBe("unauthorized");
      expect((await guardedApi.call("POST", "/v1/uploads", { json, token: "wrong" })).status).toBe(403);
      expect((await guardedApi.call("POST", "/v1/uploads", { json, token: "s3cret-key" })).status).toBe(201);
      expect((await guardedApi.call("GET", "/v1/uploads")).status).toBe(401);
      const list = await guardedApi.call("GET", "/v1/uploads", { token: "s3cret-key" });
      expect(list.status).toBe(200);
      expect(list.body).toHaveLength(1);
    } finally {
      await guarded.close();
      await removeDir(guarded.dataDir);
    }
  });
});

describe("PUT /v1/uploads/:id/segments/:index", () => {
  it("stores a segment, checks Content-Digest, and lists it from storage", async () => {
    const file = randomFile(150 * KiB);
    const upload = await api.create(file.length, 64 * KiB);
    const first = sliceSegment(file, 64 * KiB, 0);
    const response = await api.putSegment(upload, 0, first, { "content-digest": contentDigest(first) });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ index: 0, size: 64 * KiB, sha256: sha256Hex(first) });
    const last = sliceSegment(file, 64 * KiB, 2);
    expect((await api.putSegment(upload, 2, last)).status).toBe(201);
    const listed = await api.segments(upload);
    expect(listed.body).toEqual([
      { index: 0, size: 64 * KiB, sha256: sha256Hex(first) },
      { index: 2, size: last.length, sha256: sha256Hex(last) },
    ]);
    const status = await api.status(upload);
    expect(status.body).toMatchObject({
      state: "uploading",
      receivedSegments: 2,
      receivedBytes: 64 * KiB + last.length,
    });
  });

  it("is idempotent when a segment is sent again", async () => {
    const file = randomFile(64 * KiB);
    const upload = await api.create(file.length, 64 * KiB);
    const a = await api.putSegment(upload, 0, file);
    const b = await api.putSegment(upload, 0, file);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body).toEqual(a.body);
    expect((await api.segments(upload)).body).toHaveLength(1);
    expect((await leftovers(t.dataDir, upload.id)).filter((name) => name.includes(upload.id))).toHaveLength(
      2,
    );
  });

  it.each([
    ["wrong size", 0, 1000, {}, 400, "segment_size_mismatch"],
    [
      "wrong digest",
      0,
      64 * KiB,
      { "content-digest": contentDigest(new Uint8Array([1])) },
      400,
      "digest_mismatch",
    ],
    ["malformed digest", 0, 64 * KiB, { "content-digest": "sha-256=:abc:" }, 400, "invalid_request"],
  ])("refuses a body with %s and leaves no bytes", async (_label, index, length, headers, status, code) => {
    const upload = await api.create(128 * KiB, 64 * KiB);
    const response = await api.putSegment(upload, index, randomFile(length), headers);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect((await leftovers(t.dataDir)).filter((name) => name.includes(upload.id))).toEqual([]);
  });

  it.each([
    ["-1", 400, "invalid_segment_index"],
    ["1.5", 400, "invalid_segment_index"],
    ["abc", 400, "invalid_segment_index"],
    ["2", 400, "segment_index_out_of_range"],
    ["99999999999", 400, "invalid_segment_index"],
  ])("refuses index %s with %i %s", async (index, status, code) => {
    const upload = await api.create(128 * KiB, 64 * KiB);
    const response = await api.call("PUT", `/v1/uploads/${upload.id}/segments/${index}`, {
      token: upload.token,
      body: randomFile(64 * KiB),
    });
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });

  it("checks ids and tokens: 400 malformed, 404 unknown, 401 without, 403 with another upload's token", async () => {
    const a = await api.create(64 * KiB, 64 * KiB);
    const b = await api.create(64 * KiB, 64 * KiB);
    const body = randomFile(64 * KiB);
    const put = (id: string, token?: string) =>
      api.call("PUT", `/v1/uploads/${id}/segments/0`, token === undefined ? { body } : { token, body });
    expect((await put("..%2F..%2Fetc", a.token)).body.error.code).toBe("invalid_upload_id");
    expect((await put("AAAAAAAAAAAAAAAAAAAAAA", a.token)).body.error.code).toBe("upload_not_found");
    expect((await put(a.id)).status).toBe(401);
    const forbidden = await put(a.id, b.token);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe("forbidden");
    expect((await api.segments(a)).body).toEqual([]);
  });

  it("a body cut off midway leaves no partial file", async () => {
    const upload = await api.create(1024 * KiB, 1024 * KiB);
    await new Promise<void>((resolve) => {
      const req = request(`${t.url}/v1/uploads/${upload.id}/segments/0`, {
        method: "PUT",
        headers: { authorization: `Bearer ${upload.token}`, "content-length": String(1024 * KiB) },
      });
      req.on("error", () => resolve());
      req.write(randomFile(300 * KiB), () => setTimeout(() => req.destroy(), 50));
      req.on("close", () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(t.server.inflight.count(upload.id)).toBe(0);
    expect(
      (await leftovers(t.dataDir)).filter(
        (name) => name.includes(`${upload.id}/`) && !name.endsWith("(folder)"),
      ),
    ).toEqual([]);
    expect((await api.segments(upload)).body).toEqual([]);
  });

  it("a chunked body longer than the segment is refused", async () => {
    const upload = await api.create(128 * KiB, 64 * KiB);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(randomFile(64 * KiB));
        controller.enqueue(randomFile(10));
        controller.close();
      },
    });
    const response = await fetch(`${t.url}/v1/uploads/${upload.id}/segments/0`, {
      method: "PUT",
      headers: { authorization: `Bearer ${upload.token}` },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("segment_size_mismatch");
    expect((await api.segments(upload)).body).toEqual([]);
  });
});

describe("DELETE /v1/uploads/:id/segments/:index", () => {
  it("deletes a segment and is idempotent", async () => {
    const upload = await api.create(64 * KiB, 64 * KiB);
    await api.putSegment(upload, 0, randomFile(64 * KiB));
    const path = `/v1/uploads/${upload.id}/segments/0`;
    expect((await api.call("DELETE", path, { token: upload.token })).status).toBe(204);
    expect((await api.call("DELETE", path, { token: upload.token })).status).toBe(204);
    expect((await api.segments(upload)).body).toEqual([]);
    expect((await api.status(upload)).body.receivedSegments).toBe(0);
  });
});

describe("complete and videos", () => {
  async function uploadWhole(file: Uint8Array, segmentSize: number, contentType = "video/mp4") {
    const upload = await api.create(file.length, segmentSize, { contentType });
    for (let index = 0; index < upload.segmentCount; index++) {
      const response = await api.putSegment(upload, index, sliceSegment(file, segmentSize, index));
      expect(response.status).toBe(201);
    }
    return upload;
  }

  it("a cancel during the ffprobe check: complete answers 410 upload_cancelled, not a 500", async () => {
    // ffprobe, held for probes (not for the start-up `-version` check) once it has said it
    // started, so the cancel lands while the complete is waiting for it.
    const bin = await mkdtemp(join(tmpdir(), "cleancut-slow-ffprobe-"));
    const slowFfprobe = join(bin, "ffprobe");
    const started = join(bin, "probing");
    await writeFile(
      slowFfprobe,
      `#!/bin/sh\n[ "$1" = "-version" ] || { touch "${started}"; sleep 30; }\nexec ffprobe "$@"\n`,
      { mode: 0o755 },
    );
    const slow = await startTestServer({ ffprobe: slowFfprobe });
    try {
      const slowApi = new Api(slow.url);
      const file = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
      const upload = await slowApi.create(file.length, 64 * KiB);
      for (let index = 0; index < upload.segmentCount; index++) {
        expect((await slowApi.putSegment(upload, index, sliceSegment(file, 64 * KiB, index))).status).toBe(
          201,
        );
      }
      const completing = slowApi.complete(upload);
      await waitFor(
        async () => (await stat(started).catch(() => undefined)) !== undefined,
        "ffprobe running",
      );
      const cancel = await slowApi.cancel(upload);
      expect(cancel.status).toBe(200);
      expect(cancel.body).toMatchObject({ verified: true });
      const complete = await completing;
      expect(complete.status).toBe(410);
      expect(complete.body.error.code).toBe("upload_cancelled");
      expect(await leftovers(slow.dataDir, upload.id)).toEqual([]);
      expect(await filesUnder(join(slow.dataDir, "videos"))).toEqual([]);
    } finally {
      await slow.close();
      await removeDir(slow.dataDir);
      await removeDir(bin);
    }
  });

  it("joins a real video, probes it, removes the segments, serves it with Range", async () => {
    const file = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
    const upload = await uploadWhole(file, 64 * KiB);
    const response = await api.complete(upload);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ size: file.length, sha256: sha256Hex(file), uploadId: upload.id });
    expect(response.body.probe).toMatchObject({
      container: "mp4",
      width: 640,
      height: 360,
      videoCodec: "h264",
    });
    expect(response.body.probe.durationSeconds).toBeCloseTo(3, 0);
    expect((await api.status(upload)).body).toMatchObject({
      state: "completed",
      videoId: response.body.videoId,
    });
    expect(await api.segments(upload).then((r) => r.body)).toEqual([]);
    // Completing again answers the same video.
    expect((await api.complete(upload)).body.videoId).toBe(response.body.videoId);

    const videoId = response.body.videoId as string;
    expect((await api.call("GET", `/v1/videos/${videoId}`)).body.sha256).toBe(sha256Hex(file));
    const whole = await fetch(`${t.url}/v1/videos/${videoId}/content`);
    expect(Buffer.from(await whole.arrayBuffer()).equals(file)).toBe(true);
    const part = await fetch(`${t.url}/v1/videos/${videoId}/content`, {
      headers: { range: "bytes=100-199" },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${file.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(file.subarray(100, 200))).toBe(true);
    const bad = await fetch(`${t.url}/v1/videos/${videoId}/content`, {
      headers: { range: `bytes=${file.length}-` },
    });
    expect(bad.status).toBe(416);

    // A cancel after completion is refused: the video is deleted through its own route.
    const late = await api.cancel(upload);
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe("upload_completed");
    expect((await api.call("DELETE", `/v1/videos/${videoId}`, { token: upload.token })).status).toBe(204);
    expect(
      (await leftovers(t.dataDir)).filter((name) => name.includes(videoId) || name.includes(upload.id)),
    ).toEqual([]);
  });

  it("refuses a file that is not a video and keeps nothing of it", async () => {
    const file = Buffer.concat([Buffer.from("%PDF-1.7\n"), randomFile(100 * KiB)]);
    const upload = await uploadWhole(file, 64 * KiB);
    const response = await api.complete(upload);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("not_a_video");
    const status = await api.status(upload);
    expect(status.body).toMatchObject({ state: "failed", error: { code: "not_a_video" } });
    expect(status.body.cancel).toMatchObject({ verified: true, reason: "not_a_video" });
    expect(await leftovers(t.dataDir, upload.id)).toEqual(
      (await leftovers(t.dataDir)).filter((name) => !name.includes(upload.id)),
    );
  });

  it("refuses a file with a video header but no video inside (ffprobe)", async () => {
    const header = Buffer.from([
      0,
      0,
      0,
      0x18,
      ...Buffer.from("ftypisom"),
      0,
      0,
      2,
      0,
      ...Buffer.from("isomiso2"),
    ]);
    const file = Buffer.concat([header, randomFile(70 * KiB)]);
    const upload = await uploadWhole(file, 64 * KiB);
    const response = await api.complete(upload);
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe("not_a_video");
    expect((await leftovers(t.dataDir)).filter((name) => name.includes(upload.id))).toEqual([]);
  });

  it("refuses to complete while segments are missing", async () => {
    const upload = await api.create(128 * KiB, 64 * KiB);
    await api.putSegment(upload, 1, randomFile(64 * KiB));
    const response = await api.complete(upload);
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: "segments_missing", details: { missing: [0] } });
  });
});

describe("documentation and unknown routes", () => {
  it("serves the OpenAPI document with every v1 route", async () => {
    const response = await api.call("GET", "/openapi.json");
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe("3.1.0");
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/uploads",
        "/v1/uploads/{id}",
        "/v1/uploads/{id}/segments",
        "/v1/uploads/{id}/segments/{index}",
        "/v1/uploads/{id}/complete",
        "/v1/videos/{id}",
        "/v1/videos/{id}/content",
        "/v1/videos/{id}/playback-url",
      ]),
    );
  });

  it("documents every webhook event with its body and signature headers", async () => {
    const { body } = await api.call("GET", "/openapi.json");
    expect(Object.keys(body.webhooks).sort()).toEqual([...uploadEventTypes].sort());
    const cancelled = body.webhooks["upload.cancelled"].post;
    expect(cancelled.parameters.map((header: { name: string }) => header.name)).toEqual([
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    ]);
    const event = cancelled.requestBody.content["application/json"].schema;
    expect(event.properties.type.const).toBe("upload.cancelled");
    expect(event.properties.data.required).toEqual(["uploadId", "report"]);
    expect(Object.keys(event.properties.data.properties.report.properties)).toContain("verified");
  });

  it("answers unknown routes with route_not_found", async () => {
    const response = await api.call("GET", "/v2/nothing");
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe("route_not_found");
  });
});
