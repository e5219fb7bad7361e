import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWebhookOutbox } from "../../server/src/index.js";
import { Api } from "../../server/test/support/api.js";
import { removeDir, startTestServer } from "../../server/test/support/harness.js";
import { waitFor } from "../../server/test/support/wait.js";
import { createAndCancel } from "../../server/test/support/webhook-flows.js";
import { newWebhookSecret, WebhookReceiver } from "../../server/test/support/webhook-receiver.js";
import { runCli } from "./run-cli.js";

const secret = newWebhookSecret();

describe("cleancut webhooks ls / replay", () => {
  let dataDir: string;
  let receiver: WebhookReceiver;
  let endpoint: string;
  let uploadId: string;

  /**
   * A server whose only endpoint answers 503, with a short window: both events end dead. The
   * receiver stays up (later told to accept): a port freed and taken again could be someone else's.
   */
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cleancut-cli-webhooks-"));
    receiver = await WebhookReceiver.start();
    receiver.answer = () => ({ status: 503 });
    endpoint = receiver.url;
    const t = await startTestServer({
      dataDir,
      webhookUrls: [endpoint],
      webhookSecret: secret,
      webhookRetryWindowMs: 300,
      webhookBackoff: { baseMs: 50, maxMs: 100 },
    });
    try {
      uploadId = (await createAndCancel(new Api(t.url))).id;
      const outbox = openWebhookOutbox(undefined, dataDir);
      try {
        await waitFor(async () => {
          const listings = await outbox.list({ failedOnly: true, limit: 10 }, AbortSignal.timeout(5_000));
          return listings.filter((l) => l.state === "dead").length === 2;
        }, "both deliveries dead");
      } finally {
        await outbox.close();
      }
    } finally {
      await t.close();
    }
  });
  afterAll(async () => {
    await receiver?.close();
    await removeDir(dataDir);
  });

  it("ls --failed --json lists the dead deliveries; ls prints a table", async () => {
    const json = runCli(["webhooks", "ls", "--failed", "--json", "--data-dir", dataDir]);
    expect(await json.exit).toBe(0);
    const listings = JSON.parse(json.stdout()) as Array<Record<string, unknown>>;
    expect(listings.map((l) => l.type)).toEqual(["upload.cancelled", "upload.created"]);
    for (const listing of listings) {
      expect(listing).toMatchObject({ uploadId, state: "dead", endpoint });
      expect(listing.eventId).toMatch(/^evt_/);
      expect(listing.attempts).toBeGreaterThanOrEqual(1);
      expect(listing.lastError).toMatch(/^receiver answered 503/);
    }

    const table = runCli(["webhooks", "ls", "--data-dir", dataDir]);
    expect(await table.exit).toBe(0);
    const lines = table.stdout().trim().split("\n");
    expect(lines[0]).toMatch(/^EVENT\s+TYPE\s+UPLOAD\s+ENDPOINT\s+STATE\s+ATTEMPTS\s+AGE\s+LAST ERROR$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain(listings[0]?.eventId as string);
    expect(lines[1]).toMatch(/upload\.cancelled .* dead .*receiver answered 503/);
  });

  it("replay sends a dead event again once the receiver is up; an unknown id is one line with its code", async () => {
    const before = JSON.parse(
      (await finished(runCli(["webhooks", "ls", "--json", "--data-dir", dataDir]))).stdout(),
    ) as Array<{ eventId: string; type: string }>;
    const created = before.find((l) => l.type === "upload.created")?.eventId as string;

    const replay = runCli(["webhooks", "replay", created, "--data-dir", dataDir]);
    expect(await replay.exit).toBe(0);
    expect(replay.stdout()).toContain(`${created}: 1 delivery pending again`);
    const after = JSON.parse(
      (await finished(runCli(["webhooks", "ls", "--json", "--data-dir", dataDir]))).stdout(),
    ) as Array<{ eventId: string; state: string; attempts: number }>;
    expect(after.find((l) => l.eventId === created)).toMatchObject({ state: "pending", attempts: 0 });

    // The endpoint accepts now, a server starts on the same data: the replayed event arrives,
    // the other (still dead) does not.
    receiver.answer = () => ({ status: 204 });
    const t = await startTestServer({ dataDir, webhookUrls: [endpoint], webhookSecret: secret });
    try {
      await waitFor(() => receiver.accepted.length === 1, "the replayed event");
      expect(receiver.accepted[0]?.event).toMatchObject({ id: created, type: "upload.created" });
    } finally {
      await t.close();
    }

    const unknown = runCli(["webhooks", "replay", "evt_unknown", "--data-dir", dataDir]);
    expect(await unknown.exit).toBe(1);
    expect(unknown.stderr()).toBe("cleancut: no webhook event evt_unknown (event_not_found)\n");
  });
});

describe("cleancut serve: webhook start-up errors", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "cleancut-cli-webhook-config-"));
  });
  afterAll(async () => {
    await removeDir(dataDir);
  });

  it.each([
    [
      ["--webhook-url", "ftp://example.com/hook", "--webhook-secret", "whsec_AAAAAAAAAAAAAAAAAAAAAA=="],
      {},
      /must be http:\/\/ or https:\/\//,
    ],
    [[], { CLEANCUT_WEBHOOK_URLS: "http://127.0.0.1:9/a,https://example.com/b" }, /without a secret/],
    [
      [],
      { CLEANCUT_WEBHOOK_URLS: "http://127.0.0.1:9/a", CLEANCUT_WEBHOOK_SECRET: "nope" },
      /whsec_<base64>/,
    ],
  ])("%j %j: one line, invalid_webhook_config, exit 1", async (args, env, message) => {
    const run = runCli(["serve", "--port", "0", "--data-dir", dataDir, ...args], env);
    expect(await run.exit).toBe(1);
    const lines = run.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(lines[0]).toMatch(/\(invalid_webhook_config\)$/);
  });

  it("a timeout that is not a number is a usage error (exit 2)", async () => {
    const run = runCli(["serve", "--port", "0", "--data-dir", dataDir, "--webhook-timeout", "soon"]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toBe(
      'cleancut: --webhook-timeout must be a positive number of seconds, got "soon" (usage)\n',
    );
  });
});

async function finished(run: ReturnType<typeof runCli>) {
  const code = await run.exit;
  if (code !== 0) throw new Error(`exit ${code}: ${run.stderr()}`);
  return run;
}
