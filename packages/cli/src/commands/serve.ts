import { parseArgs } from "node:util";
import { defaultConfig, startServer } from "@cleancut/server";
import { parseByteSize } from "../byte-size.js";
import { UsageError } from "../usage-error.js";

export const serveHelp = `Usage: cleancut serve [options]

Starts the upload service: segments on local disk, metadata in SQLite, both under --data-dir.

Options:
  --port N              port to listen on; 0 picks a free one (default 8787, env PORT)
  --host ADDR           address to listen on (default 127.0.0.1, env HOST)
  --data-dir DIR        where segments, videos and the database live (default ./cleancut-data)
  --api-key KEY         require "Authorization: Bearer KEY" to create and list uploads (env CLEANCUT_API_KEY)
  --segment-size SIZE   default segment size, e.g. 8MiB (default 8MiB)
  --max-upload-size SIZE  largest upload accepted (default 64GiB)
  --upload-ttl SECONDS  uploads not completed by then are cancelled and deleted (default 86400)
  --no-ffprobe          check videos by their magic bytes only, even when ffprobe is installed
  --log-level LEVEL     fatal|error|warn|info|debug (default info)
  -h, --help            show this help`;

export async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "api-key": { type: "string" },
      "segment-size": { type: "string" },
      "max-upload-size": { type: "string" },
      "upload-ttl": { type: "string" },
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
    apiKey: values["api-key"] ?? process.env.CLEANCUT_API_KEY,
    defaultSegmentSize:
      optionalSize(values["segment-size"], "--segment-size") ?? defaultConfig.defaultSegmentSize,
    maxUploadSize:
      optionalSize(values["max-upload-size"], "--max-upload-size") ?? defaultConfig.maxUploadSize,
    uploadTtlMs:
      values["upload-ttl"] === undefined
        ? defaultConfig.uploadTtlMs
        : parseInteger(values["upload-ttl"], "--upload-ttl") * 1000,
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

function parseInteger(text: string, flag: string): number {
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
