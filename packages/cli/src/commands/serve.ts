import { parseArgs } from "node:util";
import { type CleancutServerOptions, defaultConfig, startServer } from "@cleancut/server";
import { accessSettings, accessSettingsFrom } from "../access-flags.js";
import { byteSize, wholeNumber } from "../parse-values.js";
import { configText, maskSecrets } from "../print-config.js";
import { helpLines, parseArgsOptions, type Setting, SettingsSource } from "../settings-table.js";
import { locationFrom, storageFrom, storageSettings } from "../storage-flags.js";
import { UsageError } from "../usage-error.js";
import { webhookSettings, webhookSettingsFrom } from "../webhook-flags.js";

const listenSettings: readonly Setting[] = [
  {
    flag: "port",
    arg: "N",
    kind: "string",
    env: ["CLEANCUT_PORT", "PORT"],
    help: `port to listen on; 0 picks a free one (default ${defaultConfig.port})`,
  },
  {
    flag: "host",
    arg: "ADDR",
    kind: "string",
    env: ["CLEANCUT_HOST", "HOST"],
    help: `address to listen on (default ${defaultConfig.host})`,
  },
];

const limitSettings: readonly Setting[] = [
  {
    flag: "api-key",
    arg: "KEY",
    kind: "string",
    env: ["CLEANCUT_API_KEY"],
    help: 'require "Authorization: Bearer KEY" to create and list uploads',
  },
  {
    flag: "segment-size",
    arg: "SIZE",
    kind: "string",
    env: ["CLEANCUT_SEGMENT_SIZE"],
    help: "default segment size, e.g. 8MiB (default 8MiB)",
  },
  {
    flag: "max-upload-size",
    arg: "SIZE",
    kind: "string",
    env: ["CLEANCUT_MAX_UPLOAD_SIZE"],
    help: "largest upload accepted (default 64GiB)",
  },
  {
    flag: "upload-ttl",
    arg: "SECONDS",
    kind: "string",
    env: ["CLEANCUT_UPLOAD_TTL"],
    help: "uploads not completed by then are cancelled and deleted (default 86400)",
  },
  {
    flag: "tus-unclaimed-ttl",
    arg: "SECONDS",
    kind: "string",
    env: ["CLEANCUT_TUS_UNCLAIMED_TTL"],
    help: "a tus upload (POST /files/) nobody touched after its creation answer\nis cancelled and deleted after this long (default 60): its creator went away",
  },
  {
    flag: "cors-origin",
    arg: "ORIGIN",
    kind: "list",
    env: ["CLEANCUT_CORS_ORIGINS"],
    help: "let pages of ORIGIN call the API (repeatable); none by default:\nthe page cleancut serves is same-origin",
  },
  {
    flag: "create-rate",
    arg: "N",
    kind: "string",
    env: ["CLEANCUT_CREATE_RATE"],
    help: "uploads one client address may create per minute (default 600; 0: no limit)",
  },
  {
    flag: "max-open-uploads",
    arg: "N",
    kind: "string",
    env: ["CLEANCUT_MAX_OPEN_UPLOADS"],
    help: "uploads one client address may have open at once (default 1000; 0: no cap)",
  },
];

const runtimeSettings: readonly Setting[] = [
  {
    flag: "no-ffprobe",
    kind: "boolean",
    env: ["CLEANCUT_NO_FFPROBE"],
    help: "check videos by their magic bytes only, even when ffprobe is installed",
  },
  {
    flag: "log-level",
    arg: "LEVEL",
    kind: "string",
    env: ["CLEANCUT_LOG_LEVEL", "LOG_LEVEL"],
    help: "fatal|error|warn|info|debug (default info)",
  },
];

/** Every `serve` setting, in --help order: the one list flags, environment variables and help come from. */
export const serveSettings: readonly Setting[] = [
  ...listenSettings,
  ...storageSettings,
  ...limitSettings,
  ...accessSettings,
  ...webhookSettings,
  ...runtimeSettings,
];

export const serveHelp = `Usage: cleancut serve [options]

Starts the upload service: segments on local disk under --data-dir, metadata in SQLite there too,
or in PostgreSQL with --database. Every option can also be set by the environment variable named
after it; a flag wins over its variable.

Options:
${helpLines(serveSettings)}
  --print-config        print the effective settings (secrets masked) and exit; with --json, as JSON
  -h, --help            show this help`;

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...parseArgsOptions(serveSettings),
      "print-config": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(serveHelp);
    return 0;
  }
  if (values.json && !values["print-config"]) throw new UsageError("--json only goes with --print-config");
  const options = serveOptionsFrom(new SettingsSource(serveSettings, values));
  if (values["print-config"]) {
    const shown = maskSecrets(options as Record<string, unknown>);
    process.stdout.write(values.json ? `${JSON.stringify(shown, null, 2)}\n` : `${configText(shown)}\n`);
    return 0;
  }
  const server = await startServer(options);
  // One plain line a script or a person can read the address from, whatever the log level.
  process.stdout.write(`cleancut listening on ${server.url} (data: ${server.config.dataDir})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  await server.close();
  return 0;
}

/** The server's options from flags, then the environment, then the defaults; every value checked. */
function serveOptionsFrom(source: SettingsSource): CleancutServerOptions {
  const port = source.string("port");
  const portNumber = wholeNumber(port) ?? defaultConfig.port;
  if (portNumber > 65535) throw new UsageError(`${port?.from ?? "--port"} must be 0..65535`);
  const apiKey = source.string("api-key")?.value;
  const logLevel = source.string("log-level") ?? { value: "info", from: "--log-level" };
  if (!logLevels.includes(logLevel.value)) {
    throw new UsageError(
      `${logLevel.from} must be one of ${logLevels.join("|")}, got ${JSON.stringify(logLevel.value)}`,
    );
  }
  const createRate = wholeNumber(source.string("create-rate"));
  return {
    port: portNumber,
    host: source.string("host")?.value ?? defaultConfig.host,
    ...locationFrom(source),
    ...storageFrom(source),
    apiKey,
    ...accessSettingsFrom(source, apiKey),
    defaultSegmentSize: byteSize(source.string("segment-size")) ?? defaultConfig.defaultSegmentSize,
    maxUploadSize: byteSize(source.string("max-upload-size")) ?? defaultConfig.maxUploadSize,
    uploadTtlMs: wholeSecondsMs(source, "upload-ttl") ?? defaultConfig.uploadTtlMs,
    tusUnclaimedTtlMs: wholeSecondsMs(source, "tus-unclaimed-ttl") ?? defaultConfig.tusUnclaimedTtlMs,
    corsOrigins: source.list("cors-origin")?.value ?? [],
    createRateLimit:
      createRate === undefined
        ? defaultConfig.createRateLimit
        : createRate === 0
          ? false
          : { max: createRate, windowMs: 60_000 },
    maxOpenUploadsPerClient:
      wholeNumber(source.string("max-open-uploads")) ?? defaultConfig.maxOpenUploadsPerClient,
    ...webhookSettingsFrom(source),
    ffprobe: source.boolean("no-ffprobe")?.value ? false : "auto",
    logLevel: logLevel.value,
  };
}

/** The TTL flags take whole seconds (unlike the webhook timeouts): kept as they were. */
function wholeSecondsMs(source: SettingsSource, flag: string): number | undefined {
  const seconds = wholeNumber(source.string(flag));
  return seconds === undefined ? undefined : seconds * 1000;
}
