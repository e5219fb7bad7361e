import { afterEach, describe, expect, it } from "vitest";
import { openWebhookOutbox, type WebhookOutbox } from "../src/index.js";
import { Api } from "./support/api.js";
import { removeDir, startTestServer } from "./support/harness.js";
import { waitFor } from "./support/wait.js";
import { createAndCancel } from "./support/webhook-flows.js";
import { newWebhookSecret, WebhookReceiver } from "./support/webhook-receiver.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server whose reaper forgets events as soon as nothing waits for them (retention 0). */
async function server(webhookUrls: string[]) {
  const t = await startTestServer({
    webhookUrls,
    ...(webhookUrls.length > 0 ? { webhookSecret: newWebhookSecret() } : {}),
    webhookBackoff: { baseMs: 50, maxMs: 100 },
    eventRetentionMs: 0,
  });
  const outbox: WebhookOutbox = openWebhookOutbox(undefined, t.dataDir);
  cleanups.push(async () => {
    await t.close();
    await outbox.close();
    await removeDir(t.dataDir);
  });
  return { api: new Api(t.url), outbox, repository: t.server.repository };
}

async function eventsOf(outbox: WebhookOutbox, uploadId: string): Promise<string[]> {
  const all = await outbox.list({ failedOnly: false, limit: 1000 }, AbortSignal.timeout(5_000));
  return all.filter((listing) => listing.uploadId === uploadId).map((listing) => listing.state);
}

describe("outbox retention", () => {
  it("forgets delivered events, never one whose delivery is still pending", async () => {
    const hooks = await WebhookReceiver.start();
    cleanups.push(() => hooks.close());
    // The first upload the receiver hears of is held (refused) until `holding` ends: decided on
    // arrival, since its event may arrive before the create's answer reaches this test.
    let holding = true;
    let held: string | undefined;
    hooks.answer = (webhook) => {
      held ??= webhook.event.data.uploadId;
      return holding && webhook.event.data.uploadId === held ? { status: 503 } : { status: 204 };
    };
    const { api, outbox } = await server([hooks.url]);

    const waiting = await api.create(1024, 64 * 1024);
    await waitFor(() => held !== undefined, "the held upload's first event");
    expect(held).toBe(waiting.id);
    await api.cancel(waiting);
    const delivered = await createAndCancel(api);
    await waitFor(() => hooks.acceptedFor(delivered.id).length === 2, "the other upload's events delivered");
    await waitFor(
      async () => (await eventsOf(outbox, delivered.id)).length === 0,
      "delivered events forgotten",
    );
    // Failing again and again, and kept: its retry window is days, whatever the retention.
    await waitFor(
      () => hooks.received.filter((w) => w.event.data.uploadId === waiting.id).length >= 3,
      "the held upload's event retried",
    );
    expect(await eventsOf(outbox, waiting.id)).toEqual(["pending", "pending"]);

    holding = false;
    await waitFor(
      () => hooks.acceptedFor(waiting.id).length === 2,
      "the held events delivered once accepted",
    );
    await waitFor(async () => (await eventsOf(outbox, waiting.id)).length === 0, "then forgotten too");
  });

  it("events written while no webhook URL is set do not pile up", async () => {
    const { api, outbox, repository } = await server([]);
    const written: string[] = [];
    repository.onEventCommitted((event) => written.push(event.type));
    const upload = await createAndCancel(api);
    expect(written).toEqual(["upload.created", "upload.cancelled"]);
    await waitFor(async () => (await eventsOf(outbox, upload.id)).length === 0, "events forgotten");
    expect(await eventsOf(outbox, upload.id)).toEqual([]);
  });

  it("deliveries to a URL taken out of the config are dead-lettered once their retry window is over", async () => {
    const gone = await WebhookReceiver.start();
    cleanups.push(() => gone.close());
    gone.answer = () => ({ status: 503 });
    const secret = newWebhookSecret();
    const first = await startTestServer({ webhookUrls: [gone.url], webhookSecret: secret });
    const outbox: WebhookOutbox = openWebhookOutbox(undefined, first.dataDir);
    cleanups.push(async () => {
      await outbox.close();
      await removeDir(first.dataDir);
    });
    const upload = await createAndCancel(new Api(first.url));
    await waitFor(() => gone.received.length >= 1, "a first attempt to the old URL");
    await first.close();
    expect(await eventsOf(outbox, upload.id)).toEqual(["pending", "pending"]);

    // The same database, now with another URL and a window that is already over.
    const next = await startTestServer({
      dataDir: first.dataDir,
      webhookUrls: ["http://127.0.0.1:9/elsewhere"],
      webhookSecret: secret,
      webhookRetryWindowMs: 1,
    });
    cleanups.push(() => next.close());
    await waitFor(
      async () => (await eventsOf(outbox, upload.id)).every((state) => state === "dead"),
      "retired",
    );
    const listed = await outbox.list({ failedOnly: true, limit: 100 }, AbortSignal.timeout(5_000));
    expect(
      listed.filter((listing) => listing.uploadId === upload.id).map((listing) => listing.lastError),
    ).toEqual(["its webhook URL is no longer configured", "its webhook URL is no longer configured"]);
  });
});
