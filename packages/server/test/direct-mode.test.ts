import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from "@aws-sdk/client-s3";
import type { CreateUploadResponse, PresignSegmentResponse } from "@cleancut/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, asBody, randomFile, sha256Hex, sliceSegment } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { type ProductionTestServer, startProductionTestServer } from "./support/production-server.js";
import { waitFor } from "./support/wait.js";

const MiB = 1024 * 1024;
const segmentSize = 5 * MiB;
let production: ProductionTestServer;
let t: TestServer;
let api: Api;
let client: S3Client;
let bucket: string;

/** Direct uploads on the production setup: real Swift s3api and PostgreSQL, over real HTTP. */
beforeAll(async () => {
  production = await startProductionTestServer("direct");
  t = production.server;
  client = production.bucket.client;
  bucket = production.bucket.name;
  api = new Api(t.url);
});
afterAll(async () => {
  await production?.close();
});

const expectNothingInBucket = (uploadId: string) => production.bucket.expectNothingFor(uploadId);

function createDirect(size: number): Promise<CreateUploadResponse> {
  return api.create(size, segmentSize, { mode: "direct" });
}

function presign(upload: CreateUploadResponse, index: number) {
  return api.call<PresignSegmentResponse>("POST", `/v1/uploads/${upload.id}/segments/${index}/presign`, {
    token: upload.token,
  });
}

function confirm(upload: CreateUploadResponse, index: number, bytes: Uint8Array) {
  return api.call("POST", `/v1/uploads/${upload.id}/segments/${index}/confirm`, {
    token: upload.token,
    json: { sha256: sha256Hex(bytes), size: bytes.length },
  });
}

/** Presign, PUT the bytes straight to S3 (no token: the URL is the only credential), confirm. */
async function sendDirect(upload: CreateUploadResponse, index: number, bytes: Uint8Array) {
  const signed = await presign(upload, index);
  expect(signed.status).toBe(200);
  const { "content-length": _length, ...headers } = signed.body.headers;
  const put = await fetch(signed.body.url, { method: "PUT", headers, body: asBody(bytes) });
  expect(put.status).toBe(200);
  await put.arrayBuffer();
  const confirmed = await confirm(upload, index, bytes);
  expect(confirmed.status).toBe(201);
  return confirmed.body;
}

describe("direct-to-S3 uploads (presigned part URLs)", () => {
  it("uploads a real video straight to S3 and completes it; the server never receives segment bytes", async () => {
    const file = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
    const writesBefore = t.faults.calls("writeSegment");
    const upload = await createDirect(file.length);
    expect(upload).toMatchObject({ mode: "direct", segmentCount: 1 });
    const signed = await presign(upload, 0);
    expect(signed.body).toMatchObject({ method: "PUT", headers: { "content-length": String(file.length) } });
    expect(new URL(signed.body.url).origin).not.toBe(new URL(t.url).origin);
    expect(Date.parse(signed.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(await sendDirect(upload, 0, file)).toEqual({
      index: 0,
      size: file.length,
      sha256: sha256Hex(file),
    });
    expect((await api.segments(upload)).body).toEqual([
      { index: 0, size: file.length, sha256: sha256Hex(file) },
    ]);
    const done = await api.complete(upload);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ size: file.length, sha256: sha256Hex(file) });
    expect(t.faults.calls("writeSegment")).toBe(writesBefore);
    const content = await fetch(`${t.url}/v1/videos/${done.body.videoId}/content`);
    expect(Buffer.from(await content.arrayBuffer()).equals(file)).toBe(true);
    expect(
      (await api.call("DELETE", `/v1/videos/${done.body.videoId}`, { token: upload.token })).status,
    ).toBe(204);
    await expectNothingInBucket(upload.id);
  });

  it("a presigned URL cannot delete: AbortMultipartUpload and DeleteObject with its signature are refused", async () => {
    const file = randomFile(2 * segmentSize);
    const upload = await createDirect(file.length);
    await sendDirect(upload, 0, sliceSegment(file, segmentSize, 0));
    const signed = (await presign(upload, 1)).body;
    // Same URL (uploadId, partNumber, signature), other method: AbortMultipartUpload.
    const abort = await fetch(signed.url, { method: "DELETE" });
    expect(abort.status).toBe(403);
    // Same signature on the bare key: DeleteObject.
    const url = new URL(signed.url);
    url.searchParams.delete("uploadId");
    url.searchParams.delete("partNumber");
    expect((await fetch(url, { method: "DELETE" })).status).toBe(403);
    // Nor can it store other bytes than the size it was signed for.
    const wrong = await fetch(signed.url, { method: "PUT", body: new Uint8Array(1234) });
    expect(wrong.status).toBe(403);
    const multipart = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `videos/${upload.id}` }),
    );
    expect(multipart.Uploads?.length).toBe(1);
    const status = (await api.status(upload)).body;
    const parts = await client.send(
      new ListPartsCommand({
        Bucket: bucket,
        Key: `videos/${upload.id}`,
        UploadId: multipart.Uploads?.[0]?.UploadId as string,
      }),
    );
    expect(parts.Parts?.map((p) => p.PartNumber)).toEqual([1]);
    expect(status).toMatchObject({ state: "uploading" });
    expect((await api.cancel(upload)).body).toMatchObject({ verified: true });
    await expectNothingInBucket(upload.id);
  });

  it("confirm checks S3: nothing PUT yet is 409 segments_missing, a wrong size is 400", async () => {
    const file = randomFile(segmentSize + 1000);
    const upload = await createDirect(file.length);
    const missing = await confirm(upload, 0, sliceSegment(file, segmentSize, 0));
    expect(missing.status).toBe(409);
    expect(missing.body.error.code).toBe("segments_missing");
    const wrongSize = await api.call("POST", `/v1/uploads/${upload.id}/segments/1/confirm`, {
      token: upload.token,
      json: { sha256: "0".repeat(64), size: 5 },
    });
    expect(wrongSize.status).toBe(400);
    expect(wrongSize.body.error.code).toBe("segment_size_mismatch");
    const noToken = await api.call("POST", `/v1/uploads/${upload.id}/segments/0/presign`);
    expect(noToken.status).toBe(401);
    // Not listed as a segment until confirmed, even once S3 holds the part.
    const signed = (await presign(upload, 1)).body;
    const last = sliceSegment(file, segmentSize, 1);
    expect((await fetch(signed.url, { method: "PUT", body: asBody(last) })).status).toBe(200);
    expect((await api.segments(upload)).body).toEqual([]);
    expect((await api.complete(upload)).status).toBe(409);
    expect((await api.cancel(upload)).body).toMatchObject({ verified: true });
    await expectNothingInBucket(upload.id);
  });

  it("cancel with parts stored and a part streaming straight to S3: verified, nothing left; presign after cancel is 410", async () => {
    const file = randomFile(3 * segmentSize);
    const upload = await createDirect(file.length);
    for (const index of [0, 1]) await sendDirect(upload, index, sliceSegment(file, segmentSize, index));
    const signed = (await presign(upload, 2)).body;
    const sender = slowPut(signed.url, segmentSize);
    await waitFor(() => sender.sent() >= MiB, "1 MiB of part 3 sent to S3");
    const response = await api.cancel(upload);
    // What the client SDK does on cancel: its own PUTs to S3 are aborted (the server cannot).
    sender.stop();
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ verified: true, remainingSegments: 0 });
    await sender.closed;
    await expectNothingInBucket(upload.id);
    const after = await presign(upload, 2);
    expect(after.status).toBe(410);
    expect(after.body).toMatchObject({ error: { code: "upload_cancelled" } });
    expect((await confirm(upload, 0, sliceSegment(file, segmentSize, 0))).status).toBe(410);
    // The URL handed out before the cancel stores nothing any more: the multipart upload is gone.
    const late = await fetch(signed.url, { method: "PUT", body: asBody(sliceSegment(file, segmentSize, 2)) });
    expect(late.status).toBe(404);
    await expectNothingInBucket(upload.id);
    expect((await api.status(upload)).body).toMatchObject({ state: "cancelled", cancel: { verified: true } });
  });

  it("presign refuses while a cancel is under way (state read after registering)", async () => {
    const file = randomFile(segmentSize);
    const upload = await createDirect(file.length);
    t.faults.inject("discardUpload", { kind: "delay", ms: 300 });
    const cancelling = api.cancel(upload);
    await waitFor(async () => (await api.status(upload)).body.state === "cancelling", "cancelling");
    const refused = await presign(upload, 0);
    t.faults.clear();
    expect(refused.status).toBe(410);
    expect((await cancelling).body).toMatchObject({ verified: true });
    await expectNothingInBucket(upload.id);
  });
});

describe("direct mode on the disk store", () => {
  it("is refused with 400 direct_mode_unavailable; proxy mode still works", async () => {
    const disk = await startTestServer();
    try {
      const diskApi = new Api(disk.url);
      const refused = await diskApi.call("POST", "/v1/uploads", {
        json: { filename: "a.mp4", size: 1000, contentType: "video/mp4", mode: "direct" },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe("direct_mode_unavailable");
      const proxied = await diskApi.create(1000);
      expect(proxied.mode).toBe("proxy");
      const presigned = await diskApi.call("POST", `/v1/uploads/${proxied.id}/segments/0/presign`, {
        token: proxied.token,
      });
      expect(presigned.status).toBe(400);
      expect(presigned.body.error.code).toBe("direct_mode_unavailable");
    } finally {
      await disk.close();
      await removeDir(disk.dataDir);
    }
  });
});

/** A PUT to a presigned URL that trickles its body, so a cancel can happen while S3 receives it. */
function slowPut(url: string, totalBytes: number) {
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const req = request(url, { method: "PUT", headers: { "content-length": String(totalBytes) } });
  req.on("error", () => {});
  req.on("response", (res) => res.resume());
  const closed = new Promise<void>((resolve) => req.on("close", () => resolve()));
  const pump = () => {
    if (req.destroyed || sent >= totalBytes) return;
    const size = Math.min(64 * 1024, totalBytes - sent);
    req.write(Buffer.alloc(size, 7));
    sent += size;
    if (sent >= totalBytes) req.end();
    else timer = setTimeout(pump, 10);
  };
  req.flushHeaders();
  pump();
  return {
    sent: () => sent,
    closed,
    stop() {
      clearTimeout(timer);
      req.destroy();
    },
  };
}
