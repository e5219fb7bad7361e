import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  type DeliveryListing,
  openRepository,
  openWebhookOutbox,
  type WebhookOutbox,
} from "@cleancut/server";
import { parseInteger } from "../parse-values.js";
import { SettingsSource } from "../settings-table.js";
import { locationFrom, storageSettings } from "../storage-flags.js";
import { UsageError } from "../usage-error.js";

export const webhooksHelp = `Usage:
  cleancut webhooks ls [--failed] [--limit N] [--json]   events and their deliveries, newest first
  cleancut webhooks replay <event-id>                     send an event again (its dead deliveries too)

Reads the database serve uses: give the same --data-dir (SQLite) or --database (PostgreSQL).

Options:
  --failed              only dead deliveries and those with a failed attempt
  --limit N             at most N lines (default 100)
  --json                one JSON array instead of a table
  --data-dir DIR        as for serve (default ./cleancut-data)
  --database URL        as for serve (env CLEANCUT_DATABASE_URL or DATABASE_URL)
  -h, --help            show this help`;

const databaseOptions = {
  "data-dir": { type: "string" },
  database: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export async function webhooksCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "-h" || sub === "--help") {
    console.log(webhooksHelp);
    return sub === undefined ? 2 : 0;
  }
  if (sub === "ls") return listDeliveries(rest);
  if (sub === "replay") return replayEvent(rest);
  throw new UsageError(`unknown webhooks command ${JSON.stringify(sub)}; see cleancut webhooks --help`);
}

async function listDeliveries(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      ...databaseOptions,
      failed: { type: "boolean" },
      limit: { type: "string" },
      json: { type: "boolean" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help();
  if (positionals.length > 0)
    throw new UsageError("webhooks ls takes no arguments; see cleancut webhooks --help");
  const limit = values.limit === undefined ? 100 : parseInteger(values.limit, "--limit");
  const listings = await withOutbox(values, (outbox, signal) =>
    outbox.list({ failedOnly: values.failed === true, limit }, signal),
  );
  process.stdout.write(
    values.json ? `${JSON.stringify(listings.map(toJson))}\n` : describe(listings, Date.now()),
  );
  return 0;
}

async function replayEvent(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: databaseOptions,
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help();
  const [eventId, ...extra] = positionals;
  if (eventId === undefined || extra.length > 0)
    throw new UsageError("webhooks replay takes one event id (evt_…); see cleancut webhooks --help");
  const reset = await withOutbox(values, (outbox, signal) => outbox.replay(eventId, Date.now(), signal));
  process.stdout.write(
    reset === 0
      ? `${eventId} is not fanned out yet: the running server delivers it as it is\n`
      : `${eventId}: ${reset} ${reset === 1 ? "delivery" : "deliveries"} pending again; the running server sends ${reset === 1 ? "it" : "them"} now\n`,
  );
  return 0;
}

/**
 * Opens the database as `serve` would (the repository runs the migrations, so a fresh folder
 * works), then the outbox on it, for one operation.
 */
async function withOutbox<T>(
  values: { "data-dir"?: string | undefined; database?: string | undefined },
  work: (outbox: WebhookOutbox, signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const location = locationFrom(new SettingsSource(storageSettings, values));
  const dataDir = resolve(location.dataDir);
  const databaseUrl = location.databaseUrl;
  const repository = await openRepository(databaseUrl, dataDir);
  const outbox = openWebhookOutbox(databaseUrl, dataDir);
  try {
    return await work(outbox, AbortSignal.timeout(30_000));
  } finally {
    await outbox.close();
    await repository.close();
  }
}

function toJson(listing: DeliveryListing) {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    ...listing,
    createdAt: iso(listing.createdAt),
    nextAttemptAt: listing.state === "pending" ? iso(listing.nextAttemptAt) : undefined,
    deliveredAt: iso(listing.deliveredAt),
  };
}

function describe(listings: DeliveryListing[], now: number): string {
  if (listings.length === 0) return "no webhook events\n";
  const rows = listings.map((l) => [
    l.eventId,
    l.type,
    l.uploadId,
    l.endpoint ?? "-",
    l.state,
    String(l.attempts),
    age(now - l.createdAt),
    l.lastError ?? "",
  ]);
  const header = ["EVENT", "TYPE", "UPLOAD", "ENDPOINT", "STATE", "ATTEMPTS", "AGE", "LAST ERROR"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** 42s, 7m, 3h, 2d: how long ago the event was recorded. */
function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

function help(): number {
  console.log(webhooksHelp);
  return 0;
}
