import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { createTestDatabase, type TestDatabase } from "./support/postgres.js";
import { startServerProcess } from "./support/server-process.js";
import { waitFor } from "./support/wait.js";
import { createAndCancel } from "./support/webhook-flows.js";
import { newWebhookSecret, verifyWebhook, WebhookReceiver } from "./support/webhook-receiver.js";

const secret = newWebhookSecret();

describe("two instances on one PostgreSQL", () => {
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  const servers: TestServer[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    receiver = await WebhookReceiver.start();
    for (let i = 0; i < 2; i++) {
      servers.push(
        await startTestServer({
          databaseUrl: database.url,
          webhookUrls: [receiver.url],
          webhookSecret: secret,
          webhookBackoff: { baseMs: 50, maxMs: 200 },
          cluster: { heartbeatMs: 100, staleAfterMs: 1_500, drainTimeoutMs: 1_000 },
        }),
      );
    }
  });

  afterAll(async () => {
    for (const server of servers) {
      await server.close();
      await removeDir(server.dataDir);
    }
    await receiver?.close();
    await database?.drop();
  });

  it("every event is delivered exactly once, by one instance or the other", async () => {
    const apis = servers.map((server) => new Api(server.url));
    const uploads = await Promise.all(
      Array.from({ length: 40 }, (_, i) => createAndCancel(apis[i % 2] as Api)),
    );
    await waitFor(
      () => uploads.every((upload) => receiver.acceptedFor(upload.id).length === 2),
      "every upload's two events",
      30_000,
    );
    // Give a duplicate the time to show up: the poll runs every 500 ms on both instances.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const ids = receiver.received.map((webhook) => webhook.event.id);
    expect(ids).toHaveLength(80);
    expect(new Set(ids).size).toBe(80);
    for (const upload of uploads) {
      expect(receiver.acceptedFor(upload.id).map((event) => event.type)).toEqual([
        "upload.created",
        "upload.cancelled",
      ]);
    }
    // Each instance counts a delivery just after recording it.
    const deliveredBy = async (server: (typeof servers)[number]) =>
      (await server.server.metrics.webhooksDelivered.get()).values[0]?.value ?? 0;
    await waitFor(
      async () => (await Promise.all(servers.map(deliveredBy))).reduce((sum, n) => sum + n, 0) === 80,
      "every delivery counted",
    );
    // Which instance claims what is up to them: the property is that the two together delivered
    // each event once, counted above. That each delivers the other's events is the next test.
  });

  it("an instance delivers the events another instance wrote, once that one is gone", async () => {
    const [survivor, leaving] = servers as [TestServer, TestServer];
    let refusing = true;
    receiver.answer = () => (refusing ? { status: 503 } : { status: 204 });
    try {
      const upload = await createAndCancel(new Api(leaving.url));
      await waitFor(
        () => receiver.received.some((w) => w.event.data.uploadId === upload.id),
        "a first, refused attempt",
      );
      const before = (await survivor.server.metrics.webhooksDelivered.get()).values[0]?.value ?? 0;
      await leaving.close();
      refusing = false;
      await waitFor(
        () => receiver.acceptedFor(upload.id).length === 2,
        "both events, from the other instance",
      );
      expect(receiver.acceptedFor(upload.id).map((event) => event.type)).toEqual([
        "upload.created",
        "upload.cancelled",
      ]);
      await waitFor(
        async () =>
          ((await survivor.server.metrics.webhooksDelivered.get()).values[0]?.value ?? 0) === before + 2,
        "counted by the instance that stayed",
      );
    } finally {
      receiver.answer = () => ({ status: 204 });
    }
  });
});

describe("kill -9 between a verified cancel and its delivery", () => {
  let dataDir: string;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cleancut-webhook-crash-"));
    receiver = await WebhookReceiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await removeDir(dataDir);
  });

  it("the event is delivered after the restart, same id, signed", async () => {
    const args = [
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--no-ffprobe",
      "--webhook-url",
      receiver.url,
      "--webhook-secret",
      secret,
      "--webhook-timeout",
      "1",
    ];
    // The receiver holds the cancel's POST open: the process dies with that attempt in flight
    // (its claim held), or just after it timed out (a retry scheduled).
    let holding = true;
    receiver.answer = (webhook) =>
      holding && webhook.event.type === "upload.cancelled" ? "hang" : { status: 204 };
    const first = await startServerProcess(args);
    let second: Awaited<ReturnType<typeof startServerProcess>> | undefined;
    try {
      const upload = await createAndCancel(new Api(first.url));
      await waitFor(
        () => receiver.received.some((w) => w.event.type === "upload.cancelled"),
        "the cancel's POST at the receiver",
      );
      await first.crash();
      holding = false;
      const inFlight = receiver.received.find((w) => w.event.type === "upload.cancelled");
      // Distinct types: on a busy machine the creation's 204 may be read after the 1 s timeout
      // and that event sent again (at least once), which is allowed.
      const typesAccepted = () => [...new Set(receiver.acceptedFor(upload.id).map((event) => event.type))];
      expect(typesAccepted()).toEqual(["upload.created"]);

      second = await startServerProcess(args);
      await waitFor(() => typesAccepted().includes("upload.cancelled"), "the delivery after restart", 30_000);
      const delivered = receiver.accepted.find((w) => w.event.type === "upload.cancelled");
      expect(delivered?.event.id).toBe(inFlight?.event.id);
      expect(delivered?.event.data).toMatchObject({ uploadId: upload.id, report: { verified: true } });
      expect(verifyWebhook(secret, delivered as NonNullable<typeof delivered>)).toEqual(delivered?.event);
    } finally {
      await first.crash().catch(() => {});
      await second?.stop();
    }
  });
});
