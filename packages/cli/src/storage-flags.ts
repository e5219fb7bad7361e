import { defaultConfig, type S3Settings } from "@cleancut/server";
import type { Setting, SettingsSource } from "./settings-table.js";
import { UsageError } from "./usage-error.js";

/** Where data lives: the flags `serve`, `gc` and `webhooks` share, so all open the same store and database. */
export const storageSettings: readonly Setting[] = [
  {
    flag: "data-dir",
    arg: "DIR",
    kind: "string",
    env: ["CLEANCUT_DATA_DIR"],
    help: "where segments, videos and the database live (default ./cleancut-data)",
  },
  {
    flag: "database",
    arg: "URL",
    kind: "string",
    env: ["CLEANCUT_DATABASE_URL", "DATABASE_URL"],
    help: "keep metadata in PostgreSQL, e.g. postgres://user@host/db",
  },
  {
    flag: "store",
    arg: "disk|s3",
    kind: "string",
    env: ["CLEANCUT_STORE"],
    help: "where segments and videos live (default disk)",
  },
  { flag: "s3-bucket", arg: "NAME", kind: "string", env: ["CLEANCUT_S3_BUCKET"], help: "with --store s3" },
  {
    flag: "s3-endpoint",
    arg: "URL",
    kind: "string",
    env: ["CLEANCUT_S3_ENDPOINT"],
    help: "an S3-compatible server; omit for AWS",
  },
  {
    flag: "s3-region",
    arg: "REGION",
    kind: "string",
    env: ["CLEANCUT_S3_REGION", "AWS_REGION"],
    help: "default us-east-1; credentials only from the environment:\nCLEANCUT_S3_ACCESS_KEY_ID / CLEANCUT_S3_SECRET_ACCESS_KEY,\nor AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY",
  },
];

export function locationFrom(source: SettingsSource): { dataDir: string; databaseUrl: string | undefined } {
  return {
    dataDir: source.string("data-dir")?.value ?? defaultConfig.dataDir,
    databaseUrl: source.string("database")?.value,
  };
}

/** `--store s3` and its settings, from flags first, then CLEANCUT_S3_* and the standard AWS_* variables. */
export function storageFrom(
  source: SettingsSource,
  env: NodeJS.ProcessEnv = process.env,
): { storage: "disk" } | { storage: "s3"; s3: S3Settings } {
  const kind = source.string("store") ?? { value: "disk", from: "--store" };
  if (kind.value === "disk") return { storage: "disk" };
  if (kind.value !== "s3")
    throw new UsageError(`${kind.from} must be disk or s3, got ${JSON.stringify(kind.value)}`);
  const bucket = source.string("s3-bucket")?.value;
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
      endpoint: source.string("s3-endpoint")?.value,
      region: source.string("s3-region")?.value ?? "us-east-1",
      accessKeyId,
      secretAccessKey,
    },
  };
}
