import type { CreateUploadResponse } from "@cleancut/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { playbackKey, playbackPath } from "../src/http/playback-url.js";
import { startServer } from "../src/index.js";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";

const KiB = 1024;
const apiKey = "app-key-private-videos-0123456789";
let t: TestServer;
let api: Api;
let videoId: string;
let uploadToken: string;
/** An MP4 header, then random bytes: a video by its magic bytes (ffprobe is off here). */
const file = Buffer.concat([
  Buffer.from([0, 0, 0, 0x18, ...Buffer.from("ftypisom"), 0, 0, 2, 0, ...Buffer.from("isomiso2")]),
  randomFile(100 * KiB),
]);

beforeAll(async () => {
  t = await startTestServer({ apiKey, privateVideos: true, ffprobe: false });
  api = new Api(t.url);
  const created = await api.call<CreateUploadResponse>("POST", "/v1/uploads", {
    token: apiKey,
    json: { filename: "v.mp4", size: file.length, contentType: "video/mp4", segmentSize: 64 * KiB },
  });
  const upload = created.body;
  uploadToken = upload.token;
  for (let index = 0; index < upload.segmentCount; index++) {
    expect((await api.putSegment(upload, index, sliceSegment(file, 64 * KiB, index))).status).toBe(201);
  }
  const completed = await api.complete(upload);
  expect(completed.status).toBe(200);
  videoId = completed.body.videoId;
});
afterAll(async () => {
  await t?.close();
  if (t !== undefined) await removeDir(t.dataDir);
});

async function mint(expiresIn?: number): Promise<{ url: string; expiresAt: string }> {
  const minted = await api.call("POST", `/v1/videos/${videoId}/playback-url`, {
    token: apiKey,
    ...(expiresIn === undefined ? {} : { json: { expiresIn } }),
  });
  expect(minted.status).toBe(200);
  return minted.body;
}

describe("private videos", () => {
  it("refuse a read without the API key (401), with a wrong key or the upload's token (403)", async () => {
    for (const path of [`/v1/videos/${videoId}`, `/v1/videos/${videoId}/content`]) {
      const anonymous = await api.call("GET", path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe("unauthorized");
      for (const token of ["wrong-key", uploadToken]) {
        const wrong = await api.call("GET", path, { token });
        expect(wrong.status).toBe(403);
        expect(wrong.body.error.code).toBe("forbidden");
      }
    }
  });

  it("are read with the API key", async () => {
    const info = await api.call("GET", `/v1/videos/${videoId}`, { token: apiKey });
    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ videoId, size: file.length });
    const content = await fetch(`${t.url}/v1/videos/${videoId}/content`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    expect(content.status).toBe(200);
    expect(Buffer.from(await content.arrayBuffer()).equals(file)).toBe(true);
  });

  it("stream through a minted playback URL, Range requests included", async () => {
    const { url, expiresAt } = await mint();
    expect(url).toMatch(
      new RegExp(`^/v1/videos/${videoId}/content\\?expires=\\d+&signature=[A-Za-z0-9_-]{43}$`),
    );
    // Default 1 h (generous bounds for a slow machine).
    const lifetime = Date.parse(expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(3500_000);
    expect(lifetime).toBeLessThanOrEqual(3600_000);
    const whole = await fetch(new URL(url, t.url));
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(file)).toBe(true);
    const ranged = await fetch(new URL(url, t.url), { headers: { range: "bytes=1000-1999" } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get("content-range")).toBe(`bytes 1000-1999/${file.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(file.subarray(1000, 2000))).toBe(true);
    // The URL's query opens the metadata route too.
    const info = await fetch(new URL(url.replace("/content", ""), t.url));
    expect(info.status).toBe(200);
  });

  it("honours expiresIn, within 1 s … 7 days", async () => {
    const { expiresAt } = await mint(60);
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    for (const expiresIn of [0, 7 * 24 * 3600 + 1]) {
      const refused = await api.call("POST", `/v1/videos/${videoId}/playback-url`, {
        token: apiKey,
        json: { expiresIn },
      });
      expect(refused.status).toBe(400);
    }
  });

  it("refuse tampered URLs (playback_url_invalid) and expired ones (playback_url_expired)", async () => {
    const { url } = await mint();
    const parsed = new URL(url, t.url);
    const signature = parsed.searchParams.get("signature") as string;
    const expires = Number(parsed.searchParams.get("expires"));
    const variants = [
      `/v1/videos/${videoId}/content?expires=${expires + 3600}&signature=${signature}`,
      `/v1/videos/${videoId}/content?expires=${expires}&signature=${signature.slice(0, -1)}${signature.endsWith("A") ? "B" : "A"}`,
      `/v1/videos/${videoId}/content?expires=${expires}&signature=short`,
      `/v1/videos/${videoId}/content?expires=soon&signature=${signature}`,
      `/v1/videos/${videoId}/content?expires=${expires}`,
      `/v1/videos/${"B".repeat(22)}/content?expires=${expires}&signature=${signature}`,
    ];
    for (const path of variants) {
      const refused = await api.call("GET", path);
      expect(refused.status, path).toBe(403);
      expect(refused.body.error.code, path).toBe("playback_url_invalid");
    }
    // Genuinely signed (same key derivation as the server), but a minute ago.
    const key = playbackKey({ apiKey, playbackSecret: undefined }) as Buffer;
    const expired = await api.call("GET", playbackPath(key, videoId, Math.floor(Date.now() / 1000) - 60));
    expect(expired.status).toBe(403);
    expect(expired.body.error.code).toBe("playback_url_expired");
  });

  it("minting needs the API key and an existing video", async () => {
    expect((await api.call("POST", `/v1/videos/${videoId}/playback-url`)).status).toBe(401);
    expect(
      (await api.call("POST", `/v1/videos/${videoId}/playback-url`, { token: uploadToken })).status,
    ).toBe(403);
    const missing = await api.call("POST", `/v1/videos/${"C".repeat(22)}/playback-url`, { token: apiKey });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("video_not_found");
  });

  it("the application deletes a video with the API key (last: the others read it)", async () => {
    expect((await api.call("DELETE", `/v1/videos/${videoId}`, { token: "wrong" })).status).toBe(403);
    expect((await api.call("DELETE", `/v1/videos/${videoId}`, { token: apiKey })).status).toBe(204);
    const gone = await api.call("GET", `/v1/videos/${videoId}`, { token: apiKey });
    expect(gone.status).toBe(404);
  });

  it("a URL signed with another secret is invalid here", async () => {
    const other = playbackKey({ apiKey: "another-key", playbackSecret: undefined }) as Buffer;
    const refused = await api.call("GET", playbackPath(other, videoId, Math.floor(Date.now() / 1000) + 600));
    expect(refused.body.error.code).toBe("playback_url_invalid");
  });
});

describe("configuration", () => {
  it("private videos without an API key do not start", async () => {
    await expect(startServer({ port: 0, privateVideos: true, logLevel: "silent" })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringMatching(/API key/),
    });
  });

  it("a playback secret replaces the API key as the key's source", () => {
    const fromKey = playbackKey({ apiKey, playbackSecret: undefined });
    const fromSecret = playbackKey({ apiKey, playbackSecret: "a-separate-playback-secret" });
    expect(fromSecret?.equals(fromKey as Buffer)).toBe(false);
    expect(playbackKey({ apiKey: undefined, playbackSecret: undefined })).toBeUndefined();
  });
});
