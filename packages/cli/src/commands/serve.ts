import { parseArgs } from "node:util";
import { defaultConfig, type S3Settings, startServer } from "@cleancut/server";
import { accessHelp, accessOptions, accessSettingsFrom } from "../access-flags.js";
import { parseByteSize } from "../byte-size.js";
import { UsageError } from "../usage-error.js";
import { webhookHelp, webhookOptions, webhookSettingsFrom } from "../webhook-flags.js";

export const serveHelp = `Usage: cleancut serve [options]

Starts the upload service: segments on local disk under --data-dir, metadata in SQLite there too,
or in PostgreSQL with --database.

Options:
  --port N              port to listen on; 0 picks a free one (default 8787, env PORT)
  --host ADDR           address to listen on (default 127.0.0.1, env HOST)
  --data-dir DIR        where segments, videos and the database live (default ./cleancut-data)
  --database URL        keep metadata in PostgreSQL, e.g. postgres://user@host/db (env DATABASE_URL)
  --store disk|s3       where segments and videos live (default disk, env CLEANCUT_STORE)
  --s3-bucket NAME      with --store s3 (env CLEANCUT_S3_BUCKET)
  --s3-endpoint URL     an S3-compatible server; omit for AWS (env CLEANCUT_S3_ENDPOINT)
  --s3-region REGION    (env CLEANCUT_S3_REGION or AWS_REGION, default us-east-1)
                        credentials: CLEANCUT_S3_ACCESS_KEY_ID / CLEANCUT_S3_SECRET_ACCESS_KEY,
                        or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
  --api-key KEY         require "Authorization: Bearer KEY" to create and list uploads (env CLEANCUT_API_KEY)
  --segment-size SIZE   default segment size, e.g. 8MiB (default 8MiB)
  --max-upload-size SIZE  largest upload accepted (default 64GiB)
  --upload-ttl SECONDS  uploads not completed by then are cancelled and deleted (default 86400)
  --tus-unclaimed-ttl SECONDS  a tus upload (POST /files/) nobody touched after its creation answer
                        is cancelled and deleted after this long (default 60): its creator went away
  --cors-origin ORIGIN  let pages of ORIGIN call the API (repeatable; env CLEANCUT_CORS_ORIGINS, comma-separated);
                        none by default: the page cleancut serves is same-origin
  --create-rate N       uploads one client address may create per minute (default 600; 0: no limit)
  --max-open-uploads N  uploads one client address may have open at once (default 1000; 0: no cap)
${accessHelp}
${webhookHelp}
  --no-ffprobe          check videos by their magic bytes only, even when ffprobe is installed
  --log-level LEVEL     fatal|error|warn|info|debug (default info)
  -h, --help            show this help`;

/** Where data lives: the flags `serve` and `gc` share, so both open the same store and database. */
export const storageOptions = {
  "data-dir": { type: "string" },
  database: { type: "string" },
  store: { type: "string" },
  "s3-bucket": { type: "string" },
  "s3-endpoint": { type: "string" },
  "s3-region": { type: "string" },
} as const;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      ...storageOptions,
      "api-key": { type: "string" },
      ...accessOptions,
      "segment-size": { type: "string" },
      "max-upload-size": { type: "string" },
      "upload-ttl": { type: "string" },
      "tus-unclaimed-ttl": { type: "string" },
      "cors-origin": { type: "string", multiple: true },
      "create-rate": { type: "string" },
      "max-open-uploads": { type: "string" },
      ...webhookOptions,
      "no-ffprobe": { type: "boolean" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(serveHelp);
    return 0;
  }
  const port = parseInteger(values.port ?? process.env.PORT ?? String(defaultConfig.port), "--port");
  if (port > 65535) throw new UsageError("--port must be 0..65535");
  const server = await startServer({
    port,
    host: values.host ?? process.env.HOST ?? defaultConfig.host,
    dataDir: values["data-dir"] ?? process.env.CLEANCUT_DATA_DIR ?? defaultConfig.dataDir,
    databaseUrl: values.database ?? process.env.DATABASE_URL,
    ...storageFrom(values),
    apiKey: values["api-key"] ?? process.env.CLEANCUT_API_KEY,
    ...accessSettingsFrom(values, values["api-key"] ?? process.env.CLEANCUT_API_KEY),
    defaultSegmentSize:
      optionalSize(values["segment-size"], "--segment-size") ?? defaultConfig.defaultSegmentSize,
    maxUploadSize:
      optionalSize(values["max-upload-size"], "--max-upload-size") ?? defaultConfig.maxUploadSize,
    uploadTtlMs:
      values["upload-ttl"] === undefined
        ? defaultConfig.uploadTtlMs
        : parseInteger(values["upload-ttl"], "--upload-ttl") * 1000,
    tusUnclaimedTtlMs:
      values["tus-unclaimed-ttl"] === undefined
        ? defaultConfig.tusUnclaimedTtlMs
        : parseInteger(values["tus-unclaimed-ttl"], "--tus-unclaimed-ttl") * 1000,
    corsOrigins: values["cors-origin"] ?? splitList(process.env.CLEANCUT_CORS_ORIGINS),
    createRateLimit: createRateFrom(values["create-rate"]),
    maxOpenUploadsPerClient:
      values["max-open-uploads"] === undefined
        ? defaultConfig.maxOpenUploadsPerClient
        : parseInteger(values["max-open-uploads"], "--max-open-uploads"),
    ...webhookSettingsFrom(values),
    ffprobe: values["no-ffprobe"] ? false : "auto",
    logLevel: values["log-level"] ?? process.env.LOG_LEVEL ?? "info",
  });
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

function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function createRateFrom(text: string | undefined): { max: number; windowMs: number } | false {
  if (text === undefined) return defaultConfig.createRateLimit;
  const perMinute = parseInteger(text, "--create-rate");
  return perMinute === 0 ? false : { max: perMinute, windowMs: 60_000 };
}

export function parseInteger(text: string, flag: string): number {
  if (!/^\d+$/.test(text))
    throw new UsageError(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function optionalSize(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes <= 0)
    throw new UsageError(`${flag} must be a size such as 8MiB, got ${JSON.stringify(text)}`);
  return bytes;
}

/** `--store s3` and its settings, from flags first, then CLEANCUT_S3_* and the standard AWS_* variables. */
export function storageFrom(values: {
  store?: string | undefined;
  "s3-bucket"?: string | undefined;
  "s3-endpoint"?: string | undefined;
  "s3-region"?: string | undefined;
}): { storage: "disk" } | { storage: "s3"; s3: S3Settings } {
  const env = process.env;
  const kind = values.store ?? env.CLEANCUT_STORE ?? "disk";
  if (kind === "disk") return { storage: "disk" };
  if (kind !== "s3") throw new UsageError(`--store must be disk or s3, got ${JSON.stringify(kind)}`);
  const bucket = values["s3-bucket"] ?? env.CLEANCUT_S3_BUCKET;
  const accessKeyId = env.CLEANCUT_S3_ACCESS_KEY_ID ?? env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.CLEANCUT_S3_SECRET_ACCESS_KEY ?? env.AWS_SECRET_ACCESS_KEY;
  if (bucket === undefined) throw new UsageError("--store s3 needs --s3-bucket (or CLEANCUT_S3_BUCKET)");
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new UsageError(
      "--store s3 needs credentials: CLEANCUT_S3_ACCESS_KEY_ID and CLEANCUT_S3_SECRET_ACCESS_KEY",
    );
  }
  return {
    storage: "s3",
    s3: {
      bucket,
      endpoint: values["s3-endpoint"] ?? env.CLEANCUT_S3_ENDPOINT,
      region: values["s3-region"] ?? env.CLEANCUT_S3_REGION ?? env.AWS_REGION ?? "us-east-1",
      accessKeyId,
      secretAccessKey,
    },
  };
}
