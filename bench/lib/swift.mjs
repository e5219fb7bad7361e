import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { S3Client } from "@aws-sdk/client-s3";

const run = promisify(execFile);

/** Starts (or finds running) the local Swift s3api with the project's script; its endpoint and credentials. */
export async function startSwift() {
  const script = new URL("../../scripts/swift/start.sh", import.meta.url).pathname;
  const { stdout } = await run("bash", [script], { timeout: 120_000 });
  const exported = new Map([...stdout.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
  const s3 = {
    endpoint: exported.get("CLEANCUT_S3_ENDPOINT"),
    accessKeyId: exported.get("CLEANCUT_S3_ACCESS_KEY_ID"),
    secretAccessKey: exported.get("CLEANCUT_S3_SECRET_ACCESS_KEY"),
    region: exported.get("CLEANCUT_S3_REGION"),
  };
  if (Object.values(s3).some((value) => !value))
    throw new Error(`start.sh printed no credentials:\n${stdout}`);
  return s3;
}

/** An S3 client for Swift's s3api (path style; Swift answers no CRC checksums). */
export function swiftClient(s3) {
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
