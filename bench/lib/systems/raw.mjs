import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { rawPut, startRawServer } from "../raw-put.mjs";

/**
 * The ceilings: what a plain `node:http` PUT of the file over loopback reaches into a sink that
 * discards the bytes, or into a file on the same disk (no hashing, no fsync, no metadata), and a
 * plain file copy (`fs.copyFile`) on that disk. Nothing to cancel.
 *
 * @param {import("./system.mjs").Environment} env
 * @param {"sink"|"file"|"copy"} kind
 * @returns {import("./system.mjs").System}
 */
export function rawSystem(env, kind) {
  let server;
  let copies = 0;
  const upload = async (path, size) => {
    if (kind === "copy") {
      const target = join(env.work, `copy-${copies++}.bin`);
      const started = performance.now();
      await copyFile(path, target);
      const ms = performance.now() - started;
      await rm(target, { force: true });
      return { ms };
    }
    return { ms: await rawPut(server.url, path, size) };
  };
  return {
    name:
      kind === "copy"
        ? "file copy (fs.copyFile)"
        : `raw node:http PUT → ${kind === "sink" ? "discarding sink" : "file"}`,
    canCancel: false,
    async start() {
      if (kind !== "copy") server = await startRawServer(kind, env.work);
    },
    uploadInChild: upload,
    uploadInProcess: upload,
    async stop() {
      await server?.stop();
    },
  };
}
