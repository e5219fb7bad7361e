import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { removeDir } from "../../server/test/support/harness.js";
import { serveSettings } from "../src/commands/serve.js";
import { runCli } from "./run-cli.js";

/** Every variable `serve` reads, emptied (empty means unset), so nothing from the caller decides these runs. */
const cleanEnv: Record<string, string> = Object.fromEntries(
  [
    ...serveSettings.flatMap((setting) => setting.env),
    "CLEANCUT_S3_ACCESS_KEY_ID",
    "CLEANCUT_S3_SECRET_ACCESS_KEY",
  ].map((name) => [name, ""]),
);

async function printConfig(args: string[], env: Record<string, string>) {
  const run = runCli(["serve", "--print-config", "--json", ...args], { ...cleanEnv, ...env });
  const code = await run.exit;
  expect(run.stderr()).toBe("");
  expect(code).toBe(0);
  return { run, config: JSON.parse(run.stdout()) as Record<string, unknown> };
}

describe("cleancut serve: configuration", () => {
  it("reads CLEANCUT_* variables; CLEANCUT_PORT beats PORT; a flag beats both", async () => {
    const { config } = await printConfig([], {
      CLEANCUT_PORT: "0",
      PORT: "9999",
      CLEANCUT_HOST: "0.0.0.0",
      CLEANCUT_UPLOAD_TTL: "30",
      CLEANCUT_CREATE_RATE: "0",
      CLEANCUT_CORS_ORIGINS: "https://a.example, https://b.example",
      CLEANCUT_NO_FFPROBE: "1",
      CLEANCUT_LOG_LEVEL: "warn",
    });
    expect(config).toMatchObject({
      port: 0,
      host: "0.0.0.0",
      uploadTtlMs: 30_000,
      createRateLimit: false,
      corsOrigins: ["https://a.example", "https://b.example"],
      ffprobe: false,
      logLevel: "warn",
    });
    const flagged = await printConfig(["--port", "1234", "--upload-ttl", "60"], {
      CLEANCUT_PORT: "0",
      CLEANCUT_UPLOAD_TTL: "30",
    });
    expect(flagged.config).toMatchObject({ port: 1234, uploadTtlMs: 60_000 });
    const legacy = await printConfig([], { PORT: "4321", DATABASE_URL: "postgres://app@db.example/videos" });
    expect(legacy.config).toMatchObject({ port: 4321, databaseUrl: "postgres://app@db.example/videos" });
  });

  it("--print-config masks every secret, in text and in JSON", async () => {
    const secrets = {
      CLEANCUT_API_KEY: "api-key-s3cr3t-value",
      CLEANCUT_WEBHOOK_SECRET: "whsec_c2VjcmV0LXdlYmhvb2sta2V5LXZhbHVl",
      CLEANCUT_PLAYBACK_SECRET: "playback-s3cr3t-0123456789",
      CLEANCUT_S3_SECRET_ACCESS_KEY: "s3-s3cr3t-access-key",
    };
    const env = {
      ...secrets,
      CLEANCUT_DATABASE_URL: "postgres://app:db-pa55word@db.example:5432/videos",
      CLEANCUT_STORE: "s3",
      CLEANCUT_S3_BUCKET: "videos",
      CLEANCUT_S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
      CLEANCUT_WEBHOOK_URLS: "https://app.example/hooks",
    };
    const { run, config } = await printConfig([], env);
    const text = runCli(["serve", "--print-config"], { ...cleanEnv, ...env });
    expect(await text.exit).toBe(0);
    for (const output of [run.stdout(), text.stdout()]) {
      for (const secret of [...Object.values(secrets), "db-pa55word"]) expect(output).not.toContain(secret);
    }
    expect(config).toMatchObject({
      apiKey: "****",
      webhookSecret: "****",
      playbackSecret: "****",
      s3: { bucket: "videos", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "****" },
      databaseUrl: "postgres://app:****@db.example:5432/videos",
    });
    expect(text.stdout()).toMatch(/^databaseUrl = postgres:\/\/app:\*\*\*\*@db\.example:5432\/videos$/m);
    expect(text.stdout()).toMatch(/^apiKey = \*\*\*\*$/m);
  });

  it("a real start on CLEANCUT_PORT=0 and CLEANCUT_DATA_DIR", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cleancut-cli-config-"));
    const run = runCli(["serve"], { ...cleanEnv, CLEANCUT_PORT: "0", CLEANCUT_DATA_DIR: dataDir });
    try {
      await run.waitForOutput(/listening on http:\/\/127\.0\.0\.1:\d+/);
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(run.stdout())?.[1]);
      expect(port).toBeGreaterThan(0);
      expect(port).not.toBe(8787);
      expect(run.stdout()).toContain(`(data: ${dataDir})`);
    } finally {
      run.child.kill("SIGTERM");
      await run.exit;
      await removeDir(dataDir);
    }
  });

  it.each([
    [["--bogus"], {}, /^cleancut: Unknown option '--bogus'.* \(ERR_PARSE_ARGS_UNKNOWN_OPTION\)$/m],
    [
      [],
      { CLEANCUT_PORT: "eighty" },
      /^cleancut: CLEANCUT_PORT must be a whole number, got "eighty" \(usage\)$/m,
    ],
    [[], { PORT: "70000" }, /^cleancut: PORT must be 0\.\.65535 \(usage\)$/m],
    [[], { CLEANCUT_SEGMENT_SIZE: "big" }, /^cleancut: CLEANCUT_SEGMENT_SIZE must be a size/],
    [[], { CLEANCUT_NO_FFPROBE: "maybe" }, /^cleancut: CLEANCUT_NO_FFPROBE must be 1 or 0/],
    [[], { CLEANCUT_WEBHOOK_TIMEOUT: "soon" }, /^cleancut: CLEANCUT_WEBHOOK_TIMEOUT must be a positive/],
    [[], { CLEANCUT_LOG_LEVEL: "loud" }, /^cleancut: CLEANCUT_LOG_LEVEL must be one of/],
    [["--upload-ttl", "x"], { CLEANCUT_UPLOAD_TTL: "30" }, /^cleancut: --upload-ttl must be a whole number/],
  ])("%j %j: one line with its code, exit 2, nothing started", async (args, env, message) => {
    const run = runCli(["serve", "--print-config", ...args], { ...cleanEnv, ...env });
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(message);
    expect(run.stderr().trim().split("\n")).toHaveLength(1);
    expect(run.stdout()).toBe("");
  });

  it("--help names each flag's variable", async () => {
    const run = runCli(["serve", "--help"], cleanEnv);
    expect(await run.exit).toBe(0);
    for (const setting of serveSettings) {
      expect(run.stdout()).toContain(`--${setting.flag}`);
      for (const name of setting.env) expect(run.stdout()).toContain(name);
    }
  });
});

describe("cleancut --version", () => {
  it.each([["--version"], ["-v"]])("%s prints the CLI package's version", async (flag) => {
    const manifest = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    const run = runCli([flag]);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toBe(`${manifest.version}\n`);
  });
});
