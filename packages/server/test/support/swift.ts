import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const scripts = join(import.meta.dirname, "..", "..", "..", "..", "scripts", "swift");

export interface SwiftS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

let ready: Promise<SwiftS3> | undefined;

/**
 * A real S3 API (OpenStack Swift's s3api on 127.0.0.1), installed and started with
 * scripts/swift/*.sh when it does not answer yet. Rejects with the reason when it cannot be
 * had: tests that need S3 fail, they never skip.
 */
export function ensureSwift(): Promise<SwiftS3> {
  ready ??= start().catch((error: unknown) => {
    ready = undefined;
    throw error;
  });
  return ready;
}

async function start(): Promise<SwiftS3> {
  const fromEnv = {
    endpoint: process.env.CLEANCUT_S3_ENDPOINT ?? "http://127.0.0.1:18080",
    accessKeyId: process.env.CLEANCUT_S3_ACCESS_KEY_ID ?? "test:tester",
    secretAccessKey: process.env.CLEANCUT_S3_SECRET_ACCESS_KEY ?? "testing",
    region: process.env.CLEANCUT_S3_REGION ?? "us-east-1",
  };
  if (await answers(fromEnv.endpoint)) return fromEnv;
  try {
    await run("bash", [join(scripts, "install.sh")], { timeout: 300_000 });
    const { stdout } = await run("bash", [join(scripts, "start.sh")], { timeout: 120_000 });
    const exported = new Map(
      [...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((match) => [match[1], match[2]] as const),
    );
    const endpoint = exported.get("CLEANCUT_S3_ENDPOINT");
    const accessKeyId = exported.get("CLEANCUT_S3_ACCESS_KEY_ID");
    const secretAccessKey = exported.get("CLEANCUT_S3_SECRET_ACCESS_KEY");
    const region = exported.get("CLEANCUT_S3_REGION");
    if (!endpoint || !accessKeyId || !secretAccessKey || !region) {
      throw new Error(`scripts/swift/start.sh printed no credentials:\n${stdout}`);
    }
    return { endpoint, accessKeyId, secretAccessKey, region };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`could not start the Swift S3 server for the tests: ${String(error)}\n${stderr}`, {
      cause: error,
    });
  }
}

/** Swift's healthcheck answers once the proxy is up (start.sh itself waits for a signed S3 call). */
async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/healthcheck`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}
