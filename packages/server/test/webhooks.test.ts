import type { UploadEvent } from "@cleancut/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { Api, randomFile } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { waitFor } from "./support/wait.js";
import { createAndCancel, fakeMp4, sentUpload } from "./support/webhook-flows.js";
import {
  newWebhookSecret,
  type ReceivedWebhook,
  verifyWebhook,
  WebhookReceiver,
} from "./support/webhook-receiver.js";

/**
 * Every event type, from real state changes of a real server, arrives at a real receiver as
 * a Standard Webhooks POST that the `standardwebhooks` package verifies; on SQLite and PostgreSQL.
 */
describe.each(["sqlite", "postgres"] as const)("webhooks on %s", (kind) => {
  const secret = newWebhookSecret();
  let receiver: WebhookReceiver;
  let database: TestDatabase | undefined;
  let t: TestServer;
  let api: Api;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    database = kind === "postgres" ? await createTestDatabase() : undefined;
    t = await startTestServer({
      ...(database === undefined ? {} : { databaseUrl: database.url }),
      ffprobe: false,
      webhookUrls: [receiver.url],
      webhookSecret: secret,
      // A tus upload nobody touches expires quickly: the `upload.expired` event.
      tusUnclaimedTtlMs: 300,
    });
    api = new Api(t.url);
  });

  afterAll(async () => {
    await t?.close();
    await removeDir(t?.dataDir ?? "");
    await receiver?.close();
    await database?.drop();
  });

  const typesOf = (uploadId: string) => receiver.acceptedFor(uploadId).map((event) => event.type);
  const webhookOf = (uploadId: string, type: string): ReceivedWebhook => {
    const found = receiver.accepted.find((w) => w.event.data.uploadId === uploadId && w.event.type === type);
    if (found === undefined) throw new Error(`no ${type} for ${uploadId}`);
    return found;
  };

  it("delivers every event type, signed, with its payload, in order per upload", async () => {
    // created -> completed -> video.deleted
    const video = fakeMp4(5000);
    const done = await sentUpload(api, video);
    const completed = await api.complete(done);
    expect(completed.status).toBe(200);
    const videoId = completed.body.videoId as string;
    expect((await api.call("DELETE", `/v1/videos/${videoId}`, { token: done.token })).status).toBe(204);
    // created -> failed (not a video)
    const junk = await sentUpload(api, randomFile(3000));
    expect((await api.complete(junk)).status).toBe(422);
    // created -> cancelled
    const cancelled = await createAndCancel(api);
    // created -> cancel_pending (the store's deletes fail) -> cancelled once they work again
    const pending = await sentUpload(api, randomFile(2000));
    t.faults.inject("deleteSegment", { kind: "fail", times: Number.POSITIVE_INFINITY });
    expect((await api.cancel(pending)).status).toBe(202);
    t.faults.clear();
    // tus creation nobody continues -> expired
    const tus = await fetch(`${t.url}/files/`, {
      method: "POST",
      headers: { "tus-resumable": "1.0.0", "upload-length": "100" },
    });
    expect(tus.status).toBe(201);
    // The location ends in `<id>.<token>`.
    const tusId = (tus.headers.get("location") ?? "").split("/").pop()?.split(".")[0] as string;

    await waitFor(
      () =>
        typesOf(done.id).length === 3 &&
        typesOf(junk.id).length === 2 &&
        typesOf(cancelled.id).length === 2 &&
        typesOf(pending.id).length === 3 &&
        typesOf(tusId).length === 2,
      "every event at the receiver",
      20_000,
    ).catch((error: Error) => {
      const seen = [done, junk, cancelled, pending].map((u) => typesOf(u.id)).concat([typesOf(tusId)]);
      throw new Error(`${error.message}; seen: ${JSON.stringify(seen)}`);
    });
    expect(typesOf(done.id)).toEqual(["upload.created", "upload.completed", "video.deleted"]);
    expect(typesOf(junk.id)).toEqual(["upload.created", "upload.failed"]);
    expect(typesOf(cancelled.id)).toEqual(["upload.created", "upload.cancelled"]);
    expect(typesOf(pending.id)).toEqual(["upload.created", "upload.cancel_pending", "upload.cancelled"]);
    expect(typesOf(tusId)).toEqual(["upload.created", "upload.expired"]);

    // Each one verifies with the standardwebhooks package, and its headers match its body.
    for (const webhook of receiver.accepted) {
      expect(verifyWebhook(secret, webhook)).toEqual(webhook.event);
      expect(webhook.headers["webhook-id"]).toBe(webhook.event.id);
      expect(webhook.headers["content-type"]).toBe("application/json");
      expect(webhook.event.id).toMatch(/^evt_/);
      expect(Math.abs(Number(webhook.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
      expect(Number.isNaN(Date.parse(webhook.event.timestamp))).toBe(false);
    }
    // Exactly once each here (a healthy receiver): no id twice.
    const ids = receiver.accepted.map((w) => w.event.id);
    expect(new Set(ids).size).toBe(ids.length);

    expect(webhookOf(done.id, "upload.created").event.data).toMatchObject({
      uploadId: done.id,
      filename: "clip.mp4",
      size: 5000,
      contentType: "video/mp4",
      segmentSize: 64 * 1024,
      segmentCount: 1,
      protocol: "v1",
    });
    expect(webhookOf(done.id, "upload.completed").event.data).toMatchObject({
      uploadId: done.id,
      videoId,
      size: 5000,
      sha256: completed.body.sha256,
      probe: { container: "mp4" },
    });
    expect(webhookOf(done.id, "video.deleted").event.data).toEqual({ uploadId: done.id, videoId });
    expect(webhookOf(junk.id, "upload.failed").event.data).toMatchObject({ code: "not_a_video" });
    expect(webhookOf(cancelled.id, "upload.cancelled").event.data).toMatchObject({
      report: { verified: true },
    });
    expect(webhookOf(pending.id, "upload.cancel_pending").event.data).toMatchObject({
      report: { verified: false },
    });
    expect(webhookOf(pending.id, "upload.cancelled").event.data).toMatchObject({
      report: { verified: true },
    });
    expect(webhookOf(tusId, "upload.created").event.data).toMatchObject({ protocol: "tus", size: 100 });
    expect(webhookOf(tusId, "upload.expired").event.data).toMatchObject({ report: { verified: true } });
  });

  it("a forged or tampered signature and a replayed (stale) message are rejected by standardwebhooks", async () => {
    const upload = await createAndCancel(api);
    await waitFor(() => typesOf(upload.id).length === 2, "the events");
    const genuine = webhookOf(upload.id, "upload.cancelled");
    expect(verifyWebhook(secret, genuine)).toEqual(genuine.event);

    const tampered = { ...genuine, body: genuine.body.replace(upload.id, "upl_someone_else") };
    expect(() => verifyWebhook(secret, tampered)).toThrow(/signature/i);
    expect(() => verifyWebhook(newWebhookSecret(), genuine)).toThrow(/signature/i);
    const forged: ReceivedWebhook = {
      ...genuine,
      headers: { ...genuine.headers, "webhook-signature": `v1,${Buffer.alloc(32).toString("base64")}` },
    };
    expect(() => verifyWebhook(secret, forged)).toThrow(/signature/i);

    // The same bytes sent again ten minutes later: outside the library's 5-minute tolerance.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 10 * 60 * 1000);
      expect(() => verifyWebhook(secret, genuine)).toThrow(/timestamp/i);
    } finally {
      vi.useRealTimers();
    }
  });

  it("events are the body: id, type, ISO timestamp, data with the upload id", async () => {
    const upload = await createAndCancel(api);
    await waitFor(() => typesOf(upload.id).length === 2, "the events");
    const event: UploadEvent = webhookOf(upload.id, "upload.created").event;
    expect(Object.keys(event).sort()).toEqual(["data", "id", "timestamp", "type"]);
    expect(event.data.uploadId).toBe(upload.id);
  });
});
