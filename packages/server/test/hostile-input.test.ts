import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, contentDigest, randomFile } from "./support/api.js";
import { filesUnder, leftovers, removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { waitFor } from "./support/wait.js";

const KiB = 1024;
let t: TestServer;
let api: Api;

beforeAll(async () => {
  // A short idle timeout, so the slow-loris case ends within the test.
  t = await startTestServer({ requestTimeoutMs: 1500 });
  api = new Api(t.url);
});
afterAll(async () => {
  await t.close();
  await removeDir(t.dataDir);
});

/** Bytes on disk under the data folder that belong to uploads or videos (the database is not upload bytes). */
async function storedBytes(): Promise<number> {
  const files = [...(await filesUnder(`${t.dataDir}/uploads`)), ...(await filesUnder(`${t.dataDir}/videos`))];
  return files.reduce((sum, file) => sum + file.size, 0);
}

describe("hostile input: a clear 4xx with a stable code, and nothing written", () => {
  it.each([
    ["GET", "/v1/uploads/..%2F..%2Fetc%2Fpasswd", 400, "invalid_upload_id"],
    ["GET", "/v1/uploads/abc%00def", 400, "invalid_upload_id"],
    ["GET", `/v1/uploads/${"A".repeat(300)}`, 400, "invalid_upload_id"],
    ["DELETE", "/v1/uploads/..%2F..", 400, "invalid_upload_id"],
    ["GET", "/v1/videos/..%2F..%2Fcleancut.sqlite", 400, "invalid_video_id"],
  ])("%s %s → %i %s", async (method, path, status, code) => {
    const response = await api.call(method, path, { token: "x".repeat(43) });
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
  });

  it.each([
    ["-1", "invalid_segment_index"],
    ["1.5", "invalid_segment_index"],
    ["1e3", "invalid_segment_index"],
    ["0x1", "invalid_segment_index"],
    ["99999999999999999999", "invalid_segment_index"],
    ["4", "segment_index_out_of_range"],
  ])("segment index %s → %s, nothing stored", async (index, code) => {
    const upload = await api.create(4 * 64 * KiB, 64 * KiB);
    const response = await api.call("PUT", `/v1/uploads/${upload.id}/segments/${index}`, {
      token: upload.token,
      body: randomFile(64 * KiB),
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect((await api.segments(upload)).body).toEqual([]);
    expect((await api.cancel(upload)).status).toBe(200);
  });

  it("ids and tokens never start with - or _, so they can be passed on a command line as they are", async () => {
    for (let round = 0; round < 100; round++) {
      const upload = await api.create(64 * KiB, 64 * KiB);
      expect(upload.id).toMatch(/^[A-Za-z0-9]/);
      expect(upload.token).toMatch(/^[A-Za-z0-9]/);
      expect((await api.cancel(upload)).status).toBe(200);
    }
  });

  it("a wrong digest is refused and the segment is not kept", async () => {
    const upload = await api.create(64 * KiB, 64 * KiB);
    const response = await api.putSegment(upload, 0, randomFile(64 * KiB), {
      "content-digest": contentDigest(randomFile(10)),
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("digest_mismatch");
    expect((await api.segments(upload)).body).toEqual([]);
    expect((await api.cancel(upload)).status).toBe(200);
  });

  it("an upload that claims 64 KiB and declares 1 GiB is refused before a byte is stored", async () => {
    const upload = await api.create(64 * KiB, 64 * KiB);
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(t.url).port), "127.0.0.1", () => {
        socket.write(
          `PUT /v1/uploads/${upload.id}/segments/0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${upload.token}\r\n` +
            "Content-Type: application/octet-stream\r\nContent-Length: 1073741824\r\n\r\n",
        );
        socket.write(randomFile(64 * KiB));
      });
      let text = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk) => {
        text += chunk;
        if (text.includes("\r\n\r\n")) socket.destroy();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(response).toMatch(/^HTTP\/1\.1 400/);
    expect(response).toContain("segment_size_mismatch");
    expect((await api.segments(upload)).body).toEqual([]);
    expect((await api.cancel(upload)).status).toBe(200);
  });

  it("oversize JSON is refused with 413 and creates nothing", async () => {
    const before = await storedBytes();
    const response = await api.call("POST", "/v1/uploads", {
      json: { filename: "a.mp4", size: 10, contentType: "video/mp4", padding: "x".repeat(200 * KiB) },
    });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toEqual(expect.any(String));
    expect(await storedBytes()).toBe(before);
  });

  it("a create that is not JSON is refused with 415", async () => {
    const response = await api.call("POST", "/v1/uploads", {
      body: new TextEncoder().encode("filename=a.mp4&size=10"),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toEqual(expect.any(String));
  });

  it("a slow-loris sender is cut off by the idle timeout and leaves nothing", async () => {
    const upload = await api.create(64 * KiB, 64 * KiB);
    const started = Date.now();
    await new Promise<void>((resolve) => {
      const socket = connect(Number(new URL(t.url).port), "127.0.0.1", () => {
        socket.write(
          `PUT /v1/uploads/${upload.id}/segments/0 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${upload.token}\r\n` +
            `Content-Length: ${64 * KiB}\r\n\r\n`,
        );
        socket.write(randomFile(100));
        // …and then nothing more.
      });
      socket.on("close", () => resolve());
      socket.on("error", () => {});
    });
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor(() => t.server.inflight.count(upload.id) === 0, "the cut-off write to settle");
    expect((await leftovers(t.dataDir, upload.id)).filter((name) => !name.endsWith("(folder)"))).toEqual([]);
    expect((await api.cancel(upload)).status).toBe(200);
  });
});

/** Requests a hostile client could make: any method, path shape, headers and body. */
const hostileRequest = fc.record({
  method: fc.constantFrom("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"),
  path: fc.oneof(
    fc.constantFrom("/v1/uploads", "/v1/uploads/", "/v1/videos/", "/openapi.json", "/"),
    fc
      .tuple(
        fc.constantFrom("/v1/uploads/", "/v1/videos/"),
        fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("..", "%2e%2e", "%00", "A".repeat(22))),
        fc.constantFrom("", "/segments", "/segments/0", "/segments/-1", "/complete", "/content"),
      )
      .map(([prefix, id, rest]) => `${prefix}${encodeURIComponent(id)}${rest}`),
  ),
  contentType: fc.constantFrom("application/json", "application/octet-stream", "text/plain", "video/mp4"),
  body: fc.oneof(
    fc.constant(undefined),
    fc.uint8Array({ maxLength: 2048 }),
    fc.jsonValue({ maxDepth: 3 }).map((value) => new TextEncoder().encode(JSON.stringify(value))),
    fc
      .record({
        filename: fc.string({ maxLength: 300 }),
        size: fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 60)),
        contentType: fc.constantFrom("video/mp4", "text/html", ""),
        segmentSize: fc.oneof(fc.integer(), fc.constant(undefined)),
      })
      .map((value) => new TextEncoder().encode(JSON.stringify(value))),
  ),
  token: fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 60 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
  ),
});

describe("fuzz (fast-check over requests)", () => {
  it("never answers 5xx, never crashes, and writes no byte outside an upload's own folder", async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (request) => {
        const headers: Record<string, string> = { "content-type": request.contentType };
        if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
        const response = await fetch(new URL(request.path, t.url), {
          method: request.method,
          headers,
          ...(request.body === undefined || request.method === "GET" || request.method === "HEAD"
            ? {}
            : { body: request.body }),
        });
        await response.arrayBuffer();
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
    // The server is still there and answers.
    expect((await api.call("GET", "/openapi.json")).status).toBe(200);
    // Whatever the fuzzer created, everything stored sits under uploads/<id>/ or videos/.
    for (const file of await filesUnder(t.dataDir)) {
      const relative = file.path.slice(t.dataDir.length + 1);
      expect(relative).toMatch(
        /^(uploads\/[A-Za-z0-9_-]+\/[^/]+|videos\/[^/]+|cleancut\.sqlite(-wal|-shm)?)$/,
      );
    }
  });
});
