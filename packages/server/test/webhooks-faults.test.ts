import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type CleancutServerOptions,
  type DeliveryListing,
  openWebhookOutbox,
  startServer,
  type WebhookOutbox,
} from "../src/index.js";
import { Api } from "./support/api.js";
import { removeDir, startTestServer, type TestServer } from "./support/harness.js";
import { waitFor } from "./support/wait.js";
import { createAndCancel } from "./support/webhook-flows.js";
import { newWebhookSecret, refusedPort, WebhookReceiver } from "./support/webhook-receiver.js";

const secret = newWebhookSecret();
/** Retries within a test's patience: 50 ms, doubling (jittered) up to 200 ms. */
const quickRetries = { webhookBackoff: { baseMs: 50, maxMs: 200 } };
const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function receiver(port?: number): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(port);
  cleanups.push(() => started.close());
  return started;
}

/** A server on SQLite with webhooks to `urls`, and the outbox on its database, as the CLI opens it. */
async function server(urls: string[], options: CleancutServerOptions = {}) {
  const t: TestServer = await startTestServer({
    webhookUrls: urls,
    webhookSecret: secret,
    ...quickRetries,
    ...options,
  });
  const outbox: WebhookOutbox = openWebhookOutbox(undefined, t.dataDir);
  cleanups.push(async () => {
    await t.close();
    await outbox.close();
    await removeDir(t.dataDir);
  });
  return { t, api: new Api(t.url), outbox };
}

async function deliveriesOf(outbox: WebhookOutbox, uploadId: string): Promise<DeliveryListing[]> {
  const all = await outbox.list({ failedOnly: false, limit: 1000 }, AbortSignal.timeout(5_000));
  return all.filter((listing) => listing.uploadId === uploadId).reverse();
}

describe("receiver failures", () => {
  it("5xx and 4xx answers are failed attempts, retried until a 2xx; the upload's next event waits", async () => {
    const hooks = await receiver();
    const answers = [500, 410];
    hooks.answer = (webhook) =>
      webhook.event.type === "upload.created" && answers.length > 0
        ? { status: answers.shift() as number }
        : { status: 200 };
    const { api, outbox } = await server([hooks.url]);
    const upload = await createAndCancel(api);

    await waitFor(() => hooks.acceptedFor(upload.id).length === 2, "both events accepted");
    const seen = hooks.received
      .filter((w) => w.event.data.uploadId === upload.id)
      .map((w) => `${w.event.type} ${(w as { status?: number }).status}`);
    // The cancel's event was not sent before the creation's was accepted.
    expect(seen).toEqual([
      "upload.created 500",
      "upload.created 410",
      "upload.created 200",
      "upload.cancelled 200",
    ]);
    // The receiver answered before the dispatcher recorded that answer: wait for the record.
    await waitFor(
      async () => (await deliveriesOf(outbox, upload.id)).every((l) => l.state === "delivered"),
      "both deliveries recorded",
    );
    const [created, cancelled] = await deliveriesOf(outbox, upload.id);
    expect(created).toMatchObject({ state: "delivered", attempts: 3, lastStatus: 200 });
    expect(created?.lastError).toMatch(/^receiver answered 410/);
    expect(cancelled).toMatchObject({ state: "delivered", attempts: 1, lastError: undefined });
  });

  it("a timeout and a refused connection are failed attempts; both endpoints get every event in the end", async () => {
    const hooks = await receiver();
    let hung = false;
    hooks.answer = () => {
      if (hung) return { status: 204 };
      hung = true;
      return "hang";
    };
    const downPort = await refusedPort();
    const downUrl = `http://127.0.0.1:${downPort}/down`;
    // Long enough for the retry's immediate 204 to be read on a busy machine; the hang exceeds it.
    const { api, outbox } = await server([hooks.url, downUrl], { webhookTimeoutMs: 2_000 });
    const upload = await createAndCancel(api);

    await waitFor(() => hooks.acceptedFor(upload.id).length === 2, "the events past the timeout");
    const listings = await deliveriesOf(outbox, upload.id);
    const toReceiver = listings.filter((l) => l.endpoint === hooks.url);
    const toDown = listings.filter((l) => l.endpoint === downUrl);
    expect(toReceiver[0]).toMatchObject({
      state: "delivered",
      attempts: 2,
      lastError: "no answer within 2000 ms",
    });
    await waitFor(
      async () =>
        (await deliveriesOf(outbox, upload.id)).some((l) => l.endpoint === downUrl && l.attempts >= 2),
      "retries to the refused endpoint",
    );
    const down = (await deliveriesOf(outbox, upload.id)).filter((l) => l.endpoint === downUrl);
    expect(down[0]).toMatchObject({ state: "pending", lastStatus: undefined });
    expect(down[0]?.lastError).toMatch(/ECONNREFUSED/);
    // The second event to it waits behind the first (order per upload and endpoint).
    expect(down[1]).toMatchObject({ state: "pending", attempts: 0 });
    expect(toDown).toHaveLength(2);

    // The endpoint comes up: it gets both, in order.
    const late = await receiver(downPort);
    await waitFor(() => late.acceptedFor(upload.id).length === 2, "delivery once the endpoint is up");
    expect(late.acceptedFor(upload.id).map((e) => e.type)).toEqual(["upload.created", "upload.cancelled"]);
  });

  it("a receiver slow on one upload (30 s) does not delay other uploads' events", async () => {
    const hooks = await receiver();
    // The first upload the receiver hears of is the slow one: decided on arrival, since its
    // event may arrive before the create's answer reaches this test.
    let slowId: string | undefined;
    hooks.answer = (webhook) => {
      slowId ??= webhook.event.data.uploadId;
      return webhook.event.data.uploadId === slowId ? { status: 204, delayMs: 30_000 } : { status: 204 };
    };
    const { api } = await server([hooks.url], { webhookTimeoutMs: 60_000 });
    const slow = await api.create(1024, 64 * 1024);
    await waitFor(
      () => hooks.received.some((w) => w.event.data.uploadId === slow.id),
      "the slow upload's first POST",
    );
    expect((await api.cancel(slow)).status).toBe(200);

    const others = await Promise.all(Array.from({ length: 8 }, () => createAndCancel(api)));
    await waitFor(
      () => others.every((upload) => hooks.acceptedFor(upload.id).length === 2),
      "every other upload's events",
    );
    // ...all while the slow upload's first POST is still unanswered, and its cancel waits behind it.
    const slowOnes = hooks.received.filter((w) => w.event.data.uploadId === slow.id);
    expect(slowOnes.map((w) => [w.event.type, (w as { status?: number }).status])).toEqual([
      ["upload.created", undefined],
    ]);
  });
});

describe("dead letters, replay and metrics", () => {
  it("after the retry window a delivery is dead; replay sends it again; /metrics counts it all", async () => {
    const hooks = await receiver();
    let down = true;
    hooks.answer = () => (down ? { status: 503 } : { status: 204 });
    const { t, api, outbox } = await server([hooks.url], {
      webhookRetryWindowMs: 400,
      webhookBackoff: { baseMs: 50, maxMs: 100 },
    });
    const upload = await createAndCancel(api);

    await waitFor(
      async () => (await deliveriesOf(outbox, upload.id)).every((l) => l.state === "dead"),
      "both deliveries dead",
    );
    const dead = await deliveriesOf(outbox, upload.id);
    expect(dead.map((l) => l.type)).toEqual(["upload.created", "upload.cancelled"]);
    for (const listing of dead) expect(listing.lastError).toMatch(/^receiver answered 503/);
    const failedOnly = await outbox.list({ failedOnly: true, limit: 100 }, AbortSignal.timeout(5_000));
    expect(failedOnly.filter((l) => l.uploadId === upload.id)).toHaveLength(2);

    // Counted just after each outcome is recorded, so possibly a moment after the listing shows it.
    const scrape = async () => (await fetch(`${t.url}/metrics`)).text();
    await waitFor(
      async () => metricValue(await scrape(), "cleancut_webhook_dead_letters_total") === 2,
      "both dead letters counted",
    );
    let metrics = await scrape();
    expect(metricValue(metrics, "cleancut_webhook_dead_letters_total")).toBe(2);
    expect(metricValue(metrics, "cleancut_webhook_failed_attempts_total")).toBeGreaterThanOrEqual(2);
    expect(metricValue(metrics, "cleancut_webhook_oldest_pending_age_seconds")).toBe(0);

    // Nothing is retried once dead, until a replay.
    const before = hooks.received.length;
    down = false;
    const createdId = dead[0]?.eventId as string;
    expect(await outbox.replay(createdId, Date.now(), AbortSignal.timeout(5_000))).toBe(1);
    await waitFor(() => hooks.acceptedFor(upload.id).length === 1, "the replayed event");
    expect(hooks.acceptedFor(upload.id)[0]?.id).toBe(createdId);
    expect(hooks.received.length).toBe(before + 1);
    await waitFor(
      async () => metricValue(await scrape(), "cleancut_webhook_deliveries_total") >= 1,
      "the delivery counted",
    );
    metrics = await scrape();
    expect(metricValue(metrics, "cleancut_webhook_deliveries_total")).toBe(1);
    await expect(outbox.replay("evt_nope", Date.now(), AbortSignal.timeout(5_000))).rejects.toMatchObject({
      code: "event_not_found",
    });
  });

  it("the oldest pending event's age shows while a receiver is down", async () => {
    const { t, api } = await server([`http://127.0.0.1:${await refusedPort()}/`]);
    await createAndCancel(api);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metricValue(metrics, "cleancut_webhook_oldest_pending_age_seconds")).toBeGreaterThanOrEqual(1);
  });
});

describe("start-up configuration", () => {
  it.each([
    [{ webhookUrls: ["ftp://example.com/hook"], webhookSecret: secret }, /must be http:\/\/ or https:\/\//],
    [{ webhookUrls: ["not a url"], webhookSecret: secret }, /is not a URL/],
    [{ webhookUrls: ["http://127.0.0.1:9/hook"] }, /without a secret/],
    [{ webhookUrls: ["http://127.0.0.1:9/hook"], webhookSecret: "hunter2" }, /whsec_<base64>/],
    [{ webhookUrls: ["http://127.0.0.1:9/hook"], webhookSecret: "whsec_!!notbase64" }, /whsec_<base64>/],
    [{ webhookUrls: ["http://127.0.0.1:9/hook"], webhookSecret: "whsec_c2hvcnQ=" }, /at least 16/],
  ])("%j is refused with invalid_webhook_config", async (options, message) => {
    const dataDir = await mkdtemp(join(tmpdir(), "cleancut-webhook-config-"));
    cleanups.push(() => removeDir(dataDir));
    const started = startServer({ port: 0, logLevel: "silent", dataDir, ...options });
    await expect(started).rejects.toMatchObject({
      code: "invalid_webhook_config",
      message: expect.stringMatching(message),
    });
  });
});

/** The value of an unlabelled metric in the Prometheus text format. */
function metricValue(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(name.length + 1));
}
