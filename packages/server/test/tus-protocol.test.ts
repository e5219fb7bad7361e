import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CleancutServerOptions } from "../src/index.js";
import { asBody } from "./support/api.js";
import { leftovers, removeDir, startTestServer, type TestServer } from "./support/harness.js";

const KiB = 1024;
const segmentSize = 64 * KiB;
let video: Buffer;
let t: TestServer;

beforeAll(async () => {
  // 8 s at 4 Mbit/s: many 64 KiB segments.
  video = await readFile(process.env.CLEANCUT_TEST_VIDEO_LARGER as string);
});
beforeEach(async () => {
  t = await startTestServer({ defaultSegmentSize: segmentSize });
});
afterEach(async () => {
  await t.close();
  await removeDir(t.dataDir);
});

/** Restarts the test's server on the same data folder with other settings. */
async function restartWith(settings: CleancutServerOptions) {
  await t.close();
  t = await startTestServer({ defaultSegmentSize: segmentSize, dataDir: t.dataDir, ...settings });
}

const tus = { "tus-resumable": "1.0.0" };
const b64 = (text: string) => Buffer.from(text).toString("base64");

async function create(
  length: number,
  extra: Record<string, string> = {},
): Promise<{ url: string; id: string; token: string }> {
  const response = await fetch(`${t.url}/files/`, {
    method: "POST",
    headers: {
      ...tus,
      "upload-length": String(length),
      "upload-metadata": `filename ${b64("clip.mp4")},filetype ${b64("video/mp4")}`,
      ...extra,
    },
  });
  expect(response.status).toBe(201);
  const location = response.headers.get("location") as string;
  expect(location).toMatch(/^\/files\/[A-Za-z0-9][A-Za-z0-9_-]{21}\.[A-Za-z0-9][A-Za-z0-9_-]{42}$/);
  const [id, token] = location.slice("/files/".length).split(".") as [string, string];
  return { url: `${t.url}${location}`, id, token };
}

/** The test video as two partial uploads with all their bytes (cut off a segment boundary): their URLs. */
async function videoInTwoPartials(): Promise<string[]> {
  const cut = 100 * KiB + 3;
  const urls: string[] = [];
  for (const part of [video.subarray(0, cut), video.subarray(cut)]) {
    const upload = await create(part.length, { "upload-concat": "partial" });
    expect((await patch(upload.url, 0, part)).status).toBe(204);
    urls.push(upload.url);
  }
  return urls;
}

/** The final upload of a concatenation of `urls`. */
function createFinal(urls: string[], signal?: AbortSignal) {
  return fetch(`${t.url}/files/`, {
    method: "POST",
    headers: {
      ...tus,
      "upload-concat": `final;${urls.join(" ")}`,
      "upload-metadata": `filename ${b64("joined.mp4")}`,
    },
    ...(signal === undefined ? {} : { signal }),
  });
}

/** creation-with-upload of the whole video, with `body` as its first bytes (streamed if a stream). */
function createWithUpload(body: BodyInit) {
  return fetch(`${t.url}/files/`, {
    method: "POST",
    headers: {
      ...tus,
      "upload-length": String(video.length),
      "content-type": "application/offset+octet-stream",
    },
    body,
    duplex: "half",
  } as RequestInit);
}

function patch(url: string, offset: number, body: Uint8Array, extra: Record<string, string> = {}) {
  return fetch(url, {
    method: "PATCH",
    headers: {
      ...tus,
      "content-type": "application/offset+octet-stream",
      "upload-offset": String(offset),
      ...extra,
    },
    body: asBody(body),
  });
}

async function head(url: string) {
  return fetch(url, { method: "HEAD", headers: tus });
}

const digest = (algorithm: string, bytes: Uint8Array) => createHash(algorithm).update(bytes).digest("base64");

describe("tus 1.0 protocol", () => {
  it("OPTIONS announces the version, extensions, max size and checksum algorithms", async () => {
    const response = await fetch(`${t.url}/files/`, { method: "OPTIONS" });
    expect(response.status).toBe(204);
    expect(response.headers.get("tus-version")).toBe("1.0.0");
    expect(response.headers.get("tus-extension")?.split(",")).toEqual(
      expect.arrayContaining([
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
        "concatenation",
      ]),
    );
    expect(Number(response.headers.get("tus-max-size"))).toBeGreaterThan(0);
    expect(response.headers.get("tus-checksum-algorithm")).toBe("sha1,sha256");
  });

  it("refuses a request without Tus-Resumable: 1.0.0 with 412 and Tus-Version, creating nothing", async () => {
    const response = await fetch(`${t.url}/files/`, { method: "POST", headers: { "upload-length": "10" } });
    expect(response.status).toBe(412);
    expect(response.headers.get("tus-version")).toBe("1.0.0");
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "tus_version_unsupported",
    );
    expect(await leftovers(t.dataDir)).toEqual([]);
  });

  it("uploads in PATCHes that end anywhere (smaller than, across and on segment boundaries), completes on the last byte, byte-identical", async () => {
    const upload = await create(video.length);
    const created = await head(upload.url);
    expect(created.status).toBe(200);
    expect(created.headers.get("upload-offset")).toBe("0");
    expect(created.headers.get("upload-length")).toBe(String(video.length));
    expect(created.headers.get("upload-metadata")).toBe(
      `filename ${b64("clip.mp4")},filetype ${b64("video/mp4")}`,
    );
    expect(created.headers.get("cache-control")).toBe("no-store");
    expect(created.headers.get("tus-resumable")).toBe("1.0.0");
    expect(Date.parse(created.headers.get("upload-expires") as string)).toBeGreaterThan(Date.now());
    const cuts = [1000, 64 * KiB, 64 * KiB + 1, 200 * KiB + 7, 300 * KiB, video.length];
    let offset = 0;
    for (const cut of cuts) {
      const response = await patch(upload.url, offset, video.subarray(offset, cut));
      expect(response.status).toBe(204);
      expect(response.headers.get("upload-offset")).toBe(String(cut));
      offset = cut;
      if (cut < video.length) expect((await head(upload.url)).headers.get("upload-offset")).toBe(String(cut));
    }
    const status = await fetch(`${t.url}/v1/uploads/${upload.id}`, {
      headers: { authorization: `Bearer ${upload.token}` },
    });
    const body = (await status.json()) as { state: string; videoId: string };
    expect(body.state).toBe("completed");
    const stored = await fetch(`${t.url}/v1/videos/${body.videoId}/content`, {
      headers: { authorization: `Bearer ${upload.token}` },
    });
    expect(Buffer.from(await stored.arrayBuffer()).equals(video)).toBe(true);
    // The segments and the partial segment are gone; only the video is kept.
    expect((await leftovers(t.dataDir)).filter((name) => !name.includes("/videos/"))).toEqual([]);
    // Terminating the finished upload deletes its video.
    const terminated = await fetch(upload.url, { method: "DELETE", headers: tus });
    expect(terminated.status).toBe(204);
    expect(await leftovers(t.dataDir)).toEqual([]);
  });

  it("keeps a partial segment between PATCHes, listed from storage, and removes it on DELETE, verified", async () => {
    const upload = await create(video.length);
    expect((await patch(upload.url, 0, video.subarray(0, 100 * KiB))).status).toBe(204);
    const handle = { id: upload.id, storageRef: "" };
    const kept = await t.faults.loadPartialSegment(handle, new AbortController().signal);
    expect(kept?.index).toBe(1);
    expect(Buffer.from(kept?.bytes ?? []).equals(video.subarray(64 * KiB, 100 * KiB))).toBe(true);
    // Listed from storage: the one complete segment and the partial one.
    const remnants = await t.faults.listRemnants(handle, new AbortController().signal);
    expect(remnants.filter((remnant) => remnant.size > 0)).toHaveLength(2);
    const terminated = await fetch(upload.url, { method: "DELETE", headers: tus });
    expect(terminated.status).toBe(204);
    expect(await leftovers(t.dataDir, upload.id)).toEqual([]);
    const status = await fetch(`${t.url}/v1/uploads/${upload.id}`, {
      headers: { authorization: `Bearer ${upload.token}` },
    });
    expect(await status.json()).toMatchObject({
      state: "cancelled",
      cancel: { verified: true, deletedSegments: 1 },
    });
    // Terminating again answers the same; the upload is gone for HEAD and PATCH.
    expect((await fetch(upload.url, { method: "DELETE", headers: tus })).status).toBe(204);
    expect((await head(upload.url)).status).toBe(410);
    expect((await patch(upload.url, 100 * KiB, video.subarray(100 * KiB, 101 * KiB))).status).toBe(410);
  });

  it("checks Upload-Checksum (sha1, sha256): a mismatch is 460 and keeps none of the body; unknown algorithms are 400", async () => {
    const upload = await create(video.length);
    const first = video.subarray(0, 150 * KiB);
    const bad = await patch(upload.url, 0, first, {
      "upload-checksum": `sha256 ${digest("sha256", video.subarray(1, 10))}`,
    });
    expect(bad.status).toBe(460);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("checksum_mismatch");
    expect((await head(upload.url)).headers.get("upload-offset")).toBe("0");
    expect(await leftovers(t.dataDir)).toEqual([]);
    const unknown = await patch(upload.url, 0, first, { "upload-checksum": `md5 ${digest("md5", first)}` });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      "unsupported_checksum_algorithm",
    );
    const good = await patch(upload.url, 0, first, { "upload-checksum": `sha1 ${digest("sha1", first)}` });
    expect(good.status).toBe(204);
    const rest = video.subarray(first.length);
    const last = await patch(upload.url, first.length, rest, {
      "upload-checksum": `sha256 ${digest("sha256", rest)}`,
    });
    expect(last.status).toBe(204);
    expect(last.headers.get("upload-offset")).toBe(String(video.length));
  });

  it("answers a wrong offset with 409 (and where to resume), a wrong Content-Type with 415, and past Upload-Length with 400", async () => {
    const upload = await create(video.length);
    const wrong = await patch(upload.url, 5, video.subarray(5, 10));
    expect(wrong.status).toBe(409);
    expect(await wrong.json()).toMatchObject({ error: { code: "offset_mismatch", details: { offset: 0 } } });
    const type = await fetch(upload.url, {
      method: "PATCH",
      headers: { ...tus, "content-type": "application/octet-stream", "upload-offset": "0" },
      body: asBody(video.subarray(0, 10)),
    });
    expect(type.status).toBe(415);
    const past = await patch(upload.url, 0, Buffer.concat([video, Buffer.alloc(1)]));
    expect(past.status).toBe(400);
    expect(await leftovers(t.dataDir)).toEqual([]);
    expect((await fetch(upload.url, { method: "DELETE", headers: tus })).status).toBe(204);
  });

  it("creation-with-upload stores the first bytes and answers their offset", async () => {
    const first = video.subarray(0, 70 * KiB);
    const response = await createWithUpload(asBody(first));
    expect(response.status).toBe(201);
    expect(response.headers.get("upload-offset")).toBe(String(first.length));
    const url = `${t.url}${response.headers.get("location")}`;
    expect((await head(url)).headers.get("upload-offset")).toBe(String(first.length));
    expect((await fetch(url, { method: "DELETE", headers: tus })).status).toBe(204);
    expect(await leftovers(t.dataDir)).toEqual([]);
  });

  it("concatenates partial uploads into a final one, byte-identical; the partials' storage is removed, verified", async () => {
    const urls = await videoInTwoPartials();
    expect((await head(urls[0] as string)).headers.get("upload-concat")).toBe("partial");
    const response = await createFinal(urls);
    expect(response.status).toBe(201);
    const final = `${t.url}${response.headers.get("location")}`;
    const finalHead = await head(final);
    expect(finalHead.headers.get("upload-offset")).toBe(String(video.length));
    expect(finalHead.headers.get("upload-concat")).toMatch(/^final;/);
    const [id, token] = (response.headers.get("location") as string).slice("/files/".length).split(".") as [
      string,
      string,
    ];
    const status = (await (
      await fetch(`${t.url}/v1/uploads/${id}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { state: string; videoId: string };
    expect(status.state).toBe("completed");
    const stored = await fetch(`${t.url}/v1/videos/${status.videoId}/content`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(Buffer.from(await stored.arrayBuffer()).equals(video)).toBe(true);
    expect((await leftovers(t.dataDir)).filter((name) => !name.includes("/videos/"))).toEqual([]);
    // A PATCH to a final upload is refused; the partials are gone.
    expect((await patch(final, 0, video.subarray(0, 1))).status).toBe(403);
    expect((await head(urls[0] as string)).status).toBe(410);
    expect((await fetch(final, { method: "DELETE", headers: tus })).status).toBe(204);
    expect(await leftovers(t.dataDir)).toEqual([]);
  });

  it("a final whose client goes away after its video was made, before the 201: the video is deleted too", async () => {
    const urls = await videoInTwoPartials();
    // The partials' removal after the join holds the 201 back: the window where the final's
    // video exists and its URL has not reached the client.
    t.faults.inject("discardUpload", { kind: "delay", ms: 1500 });
    const client = new AbortController();
    const creation = createFinal(urls, client.signal).catch(() => undefined);
    const signal = new AbortController().signal;
    await expect
      .poll(async () => (await t.server.repository.countUploadsByState(signal)).completed, {
        timeout: 10_000,
        interval: 10,
      })
      .toBe(1);
    expect((await leftovers(t.dataDir)).some((name) => name.includes("/videos/"))).toBe(true);
    client.abort();
    await creation;
    // Nobody holds the final's URL: the server deletes its video itself, and the partials go as well.
    await expect.poll(() => leftovers(t.dataDir), { timeout: 10_000 }).toEqual([]);
  });

  it("a final naming an unfinished partial is 400 concatenation_invalid", async () => {
    const upload = await create(1000, { "upload-concat": "partial" });
    const response = await fetch(`${t.url}/files/`, {
      method: "POST",
      headers: { ...tus, "upload-concat": `final;${upload.url}` },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("concatenation_invalid");
    expect((await fetch(upload.url, { method: "DELETE", headers: tus })).status).toBe(204);
    expect(await leftovers(t.dataDir)).toEqual([]);
  });

  it("a file that is not a video is refused at its last byte (422) and nothing of it is kept", async () => {
    const junk = Buffer.alloc(100 * KiB, 7);
    const upload = await create(junk.length);
    const response = await patch(upload.url, 0, junk);
    expect(response.status).toBe(422);
    await expect.poll(() => leftovers(t.dataDir)).toEqual([]);
  });

  it("an upload never touched after its creation expires after the unclaimed TTL and is removed, verified", async () => {
    await restartWith({ tusUnclaimedTtlMs: 300 });
    const claimed = await create(video.length);
    expect((await patch(claimed.url, 0, video.subarray(0, 10))).status).toBe(204);
    const unclaimed = await create(video.length);
    // Polled through /v1 (a HEAD would claim it).
    const status = async () => {
      const response = await fetch(`${t.url}/v1/uploads/${unclaimed.id}`, {
        headers: { authorization: `Bearer ${unclaimed.token}` },
      });
      return (await response.json()) as { state: string };
    };
    await expect.poll(status, { timeout: 5000 }).toMatchObject({
      state: "cancelled",
      cancel: { reason: "expired", verified: true },
    });
    expect((await head(unclaimed.url)).status).toBe(410);
    expect((await leftovers(t.dataDir, unclaimed.id)).filter((name) => name.includes(unclaimed.id))).toEqual(
      [],
    );
    // The touched one got the full lifetime.
    expect((await head(claimed.url)).status).toBe(200);
  });

  it("the unclaimed TTL counts from the 201: storage slower than the TTL to prepare does not expire the upload first", async () => {
    await restartWith({ tusUnclaimedTtlMs: 300 });
    t.faults.inject("beginUpload", { kind: "delay", ms: 600 });
    const upload = await create(video.length);
    expect((await patch(upload.url, 0, video.subarray(0, 10))).status).toBe(204);
    // Claimed: the full lifetime, well past the short TTL and a few sweeps.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await head(upload.url)).headers.get("upload-offset")).toBe("10");
  });

  it("a creation carrying bytes is not expired while they arrive, however long that takes", async () => {
    await restartWith({ tusUnclaimedTtlMs: 300 });
    const first = video.subarray(0, 70 * KiB);
    const pieces = 10;
    const pieceSize = Math.ceil(first.length / pieces);
    let sent = 0;
    // ~1 s of body: three times the unclaimed TTL, with the reaper sweeping every 50 ms.
    const slowBody = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        controller.enqueue(first.subarray(sent, sent + pieceSize));
        sent += pieceSize;
        if (sent >= first.length) controller.close();
      },
    });
    const response = await createWithUpload(slowBody);
    expect(response.status).toBe(201);
    expect(response.headers.get("upload-offset")).toBe(String(first.length));
    const url = `${t.url}${response.headers.get("location")}`;
    // The short TTL starts at the 201: a client that PATCHes at once is in time.
    expect((await patch(url, first.length, video.subarray(first.length, first.length + 10))).status).toBe(
      204,
    );
  });

  it("a server with an API key wants it for tus creation too (401 without, 403 wrong), and nothing is created", async () => {
    await restartWith({ apiKey: "k".repeat(32) });
    const post = (authorization?: string) =>
      fetch(`${t.url}/files/`, {
        method: "POST",
        headers: {
          ...tus,
          "upload-length": "1000",
          ...(authorization === undefined ? {} : { authorization }),
        },
      });
    expect((await post()).status).toBe(401);
    expect((await post("Bearer wrong")).status).toBe(403);
    expect(await leftovers(t.dataDir)).toEqual([]);
    const created = await post(`Bearer ${"k".repeat(32)}`);
    expect(created.status).toBe(201);
    // The upload URL is the credential from then on.
    const url = `${t.url}${created.headers.get("location")}`;
    expect((await fetch(url, { method: "DELETE", headers: tus })).status).toBe(204);
  });

  it("a wrong token in the URL is 404, like an unknown upload", async () => {
    const upload = await create(1000);
    const other = `${t.url}/files/${upload.id}.${"A".repeat(43)}`;
    expect((await head(other)).status).toBe(404);
    expect((await fetch(other, { method: "DELETE", headers: tus })).status).toBe(404);
    expect((await head(upload.url)).status).toBe(200);
  });
});
