// Self-check of the tus and lib-storage systems: `node bench/lib/systems/try-systems.mjs`.
// Starts Swift (scripts/swift/start.sh, left running), makes a bucket and a scratch folder, and
// for each system: one 64 MiB upload in a child, one in this process, cancels during creation
// and at 30 % and 80 %, leftovers (right after the cancels and 3 s later), clear, leftovers
// again (must be empty: exit 1 otherwise), stop. Deletes the bucket and the folder at the end.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { CreateBucketCommand, DeleteBucketCommand } from "@aws-sdk/client-s3";
import { benchTempDir } from "../children.mjs";
import { startSwift, swiftClient } from "../swift.mjs";
import { makeVideoLikeFile } from "../video-like-file.mjs";
import { libStorageSystem } from "./lib-storage.mjs";
import { tusSystem } from "./tus-server.mjs";

const MiB = 1024 * 1024;
const size = Number(process.env.SIZE_MIB ?? 64) * MiB;

const show = (label, value) => console.log(`  ${label.padEnd(22)} ${JSON.stringify(value)}`);
const round = (value) => Math.round(value * 10) / 10;
const mibps = (ms) => round(size / MiB / (ms / 1000));

const s3 = await startSwift();
const admin = swiftClient(s3);
const bucket = `cleancut-try-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
const work = await benchTempDir("cleancut-try-systems-");
let failed = false;
let bucketMade = false;
try {
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  bucketMade = true;
  /** @type {import("./system.mjs").Environment} */
  const env = { work, s3, bucket, databaseUrl: "" };
  const file = join(work, "video.mp4");
  await makeVideoLikeFile(file, size);
  for (const system of [tusSystem(env), libStorageSystem(env)]) {
    console.log(`${system.name}`);
    await system.start();
    try {
      const child = await system.uploadInChild(file, size);
      show("uploadInChild", { ...child, ms: round(child.ms), MiBps: mibps(child.ms) });
      const inProcess = await system.uploadInProcess(file, size);
      show("uploadInProcess", { ...inProcess, ms: round(inProcess.ms), MiBps: mibps(inProcess.ms) });
      if (system.rssResets === false) console.log("  (server VmHWM could not be reset: lifetime peak)");
      show("leftovers after uploads", await system.leftovers());
      for (const at of ["creation", 0.3, 0.8]) {
        const result = await system.cancelAt(file, size, at);
        show(`cancelAt ${at}`, { ...result, ms: round(result.ms) });
      }
      show("leftovers now", await system.leftovers());
      await new Promise((resolve) => setTimeout(resolve, 3000));
      show("leftovers 3 s later", await system.leftovers());
      await system.clear();
      const after = await system.leftovers();
      show("leftovers after clear", after);
      if (after.items !== 0 || after.bytes !== 0) {
        console.log("  FAIL: clear() left something");
        failed = true;
      }
    } catch (error) {
      console.log(`  FAIL: ${error.stack}`);
      failed = true;
    } finally {
      await system.stop();
    }
  }
} finally {
  if (bucketMade) {
    await admin.send(new DeleteBucketCommand({ Bucket: bucket })).catch((error) => {
      console.log(`could not delete bucket ${bucket}: ${error.message}`);
      failed = true;
    });
  }
  admin.destroy();
  await rm(work, { recursive: true, force: true });
}
console.log(failed ? "FAILED" : "ok");
process.exitCode = failed ? 1 : 0;
