import { copyFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { startWindow } from "../machine-cpu.mjs";
import { rawPut, startRawServer } from "../raw-put.mjs";

export const rawNames = {
  sink: "raw node:http PUT → discarding sink",
  file: "raw node:http PUT → file",
  "file-fsync": "raw node:http PUT → file, fsync'd",
  copy: "file copy (fs.copyFile)",
};

/**
 * The ceilings: what a plain `node:http` PUT of the file over loopback reaches into a sink that
 * discards the bytes, or into a file on the same disk (no hashing, no metadata; with or without
 * an fsync before the answer — cleancut answers a segment only once it is durable), and a plain
 * file copy (`fs.copyFile`, no fsync) on that disk. Nothing to cancel.
 *
 * @param {import("./system.mjs").Environment} env
 * @param {"sink"|"file"|"file-fsync"|"copy"} kind
 * @returns {import("./system.mjs").System}
 */
export function rawSystem(env, kind) {
  let server;
  let copies = 0;
  const upload = async (path, size) => {
    const window = startWindow();
    if (kind === "copy") {
      const target = join(env.work, `copy-${copies++}.bin`);
      await copyFile(path, target);
      const measured = window();
      await rm(target, { force: true });
      return measured;
    }
    await rawPut(server.url, path, size);
    return window();
  };
  return {
    name: rawNames[kind],
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
