// The ceilings: a plain node:http PUT of a file over loopback, to a server that discards the
// bytes (the network/loopback ceiling) or writes them to a file on the same disk (the disk
// store's fair ceiling), with or without an fsync before answering. Run as a child:
// `node raw-put.mjs serve sink|file|file-fsync DIR` prints its port.
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, request } from "node:http";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { startPortChild } from "./run-node.mjs";

export async function rawPut(url, path, size) {
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const req = request(url, { method: "PUT", headers: { "content-length": String(size) } });
    req.on("response", (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    createReadStream(path, { highWaterMark: 1024 * 1024 }).pipe(req);
  });
  return performance.now() - started;
}

/** Starts this file as a child server (`sink` discards, `file` writes into `dir`): its URL and stop(). */
export async function startRawServer(mode, dir) {
  const { child, port } = await startPortChild(new URL(import.meta.url).pathname, ["serve", mode, dir]);
  return {
    url: `http://127.0.0.1:${port}/`,
    pid: child.pid,
    stop: () => {
      child.kill();
      return new Promise((resolve) => child.once("exit", resolve));
    },
  };
}

if (process.argv[2] === "serve") {
  const mode = process.argv[3];
  const dir = process.argv[4];
  let n = 0;
  const server = createServer(async (req, res) => {
    const target =
      mode === "sink"
        ? new Writable({ write: (_chunk, _enc, done) => done() })
        : // `file-fsync`: durable before the answer, as cleancut's segments are (`flush` fsyncs before close).
          createWriteStream(join(dir, `raw-${n++}.bin`), { flush: mode === "file-fsync" });
    await pipeline(req, target);
    if (mode !== "sink") await rm(target.path, { force: true });
    res.end("ok");
  });
  server.listen(0, "127.0.0.1", () => {
    process.stdout.write(`${server.address().port}\n`);
  });
}
