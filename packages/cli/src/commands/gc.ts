import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  defaultConfig,
  defaultOrphanGraceMs,
  type OrphanReport,
  openRepository,
  openStore,
  reconcileOrphans,
  type ServerConfig,
  summarizeOrphanReport,
} from "@cleancut/server";
import { formatBytes } from "../byte-size.js";
import { parseInteger } from "../parse-values.js";
import { parseArgsOptions, SettingsSource } from "../settings-table.js";
import { locationFrom, storageFrom, storageSettings } from "../storage-flags.js";

export const gcHelp = `Usage: cleancut gc [options]

Lists what storage holds (the upload folders and videos under --data-dir, or the multipart
uploads and objects of --store s3) and removes what no live upload owns: uploads with no record
or a cancelled/failed one, and videos no videos row points at. Uploads in progress, completing
or cancelling, and anything changed within the grace period, are left alone. Removal goes
through the store and is verified by listing again.

Options:
  --dry-run             list the orphans, remove nothing
  --data-dir DIR        as for serve (default ./cleancut-data)
  --database URL        as for serve (env CLEANCUT_DATABASE_URL or DATABASE_URL)
  --store disk|s3       as for serve, with --s3-bucket, --s3-endpoint, --s3-region and the same env
  --grace-minutes M     leave entries changed within the last M minutes alone (default ${defaultOrphanGraceMs / 60_000})
  --json                print the report as JSON
  -h, --help            show this help`;

export async function gcCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "dry-run": { type: "boolean" },
      ...parseArgsOptions(storageSettings),
      "grace-minutes": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(gcHelp);
    return 0;
  }
  const graceMs =
    values["grace-minutes"] === undefined
      ? defaultOrphanGraceMs
      : parseInteger(values["grace-minutes"], "--grace-minutes") * 60_000;
  const source = new SettingsSource(storageSettings, values);
  const location = locationFrom(source);
  const config: ServerConfig = {
    ...defaultConfig,
    ...location,
    dataDir: resolve(location.dataDir),
    ...storageFrom(source),
  };
  const repository = await openRepository(config.databaseUrl, config.dataDir);
  try {
    const store = await openStore(config, repository);
    const report = await reconcileOrphans(
      { store, videos: store, repository, purge: config.purge },
      { dryRun: values["dry-run"] === true, graceMs },
      new AbortController().signal,
    );
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : describeReport(report));
    return 0;
  } finally {
    await repository.close();
  }
}

function describeReport(report: OrphanReport): string {
  const lines = report.orphans.map(
    (orphan) =>
      `${report.dryRun ? "would remove" : "orphan"}  ${orphan.kind.padEnd(8)}  ${formatBytes(orphan.bytes).padStart(10)}  ${orphan.reason.padEnd(16)}  ${orphan.name}`,
  );
  for (const failure of report.failed) {
    lines.push(
      `not removed  ${failure.kind.padEnd(8)}  ${failure.name}: ${failure.message} (${failure.code})`,
    );
  }
  lines.push(`total: ${summarizeOrphanReport(report)}`);
  return `${lines.join("\n")}\n`;
}
