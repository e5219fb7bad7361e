// @tus/server 2.x + @tus/file-store in its own process, tus-js-client 4.x as the client: what
// most people pick for resumable uploads to their own server. See system.mjs for the interface.
import { readFile, rm } from "node:fs/promises";
import { Agent } from "node:http";
import { createConnection } from "node:net";
import { join } from "node:path";
import { DefaultHttpStack, Upload } from "tus-js-client";
import { tusDelete, tusUpload } from "../clients/tus-upload.mjs";
import { peakRssMiB } from "../peak-rss.mjs";
import { resetPeakRss } from "../reset-peak-rss.mjs";
import { runJsonChild, startPortChild } from "../run-node.mjs";
import { listTree } from "../storage-listing.mjs";

const serverScript = new URL("../clients/tus-server-process.mjs", import.meta.url).pathname;
const uploadScript = new URL("../clients/tus-upload.mjs", import.meta.url).pathname;

/**
 * An http.Agent (keep-alive, as Node's global one) whose sockets report every byte written to
 * them: tus-js-client's `onProgress` is throttled to one call per 100 ms, i.e. about 10 MiB
 * here, so a cancel "at 80 %" of 64 MiB usually landed after the upload had finished.
 */
function countingAgent(onWritten) {
  const agent = new Agent({ keepAlive: true });
  let written = 0;
  agent.createConnection = (options, callback) => {
    const socket = createConnection(options, callback);
    const write = socket.write;
    socket.write = function (chunk, ...rest) {
      written += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
      onWritten(written);
      return write.call(this, chunk, ...rest);
    };
    return socket;
  };
  return agent;
}

/** @param {import("./system.mjs").Environment} env @returns {import("./system.mjs").System} */
export function tusSystem(env) {
  const directory = join(env.work, "tus-files");
  let server;
  let endpoint;
  let active = 0;
  // The server's VmHWM is reset (writing "5" to /proc/<pid>/clear_refs; works as root) when an
  // upload starts and none is running, and read when each upload ends: concurrent uploads each
  // report the peak of their batch so far. If the reset fails, the lifetime peak is reported
  // instead (`rssResets` is then false).
  let rssResets = true;
  const buffers = new Map();

  async function resetServerPeak() {
    if (rssResets) rssResets = await resetPeakRss(server.child.pid);
  }

  /** Counts the upload as running (resetting the server's peak when it is the first) around `fn`. */
  async function measured(fn) {
    if (active++ === 0) await resetServerPeak();
    try {
      const result = await fn();
      return { ...result, serverPeakRssMiB: await peakRssMiB(server.child.pid) };
    } finally {
      active--;
    }
  }

  return {
    name: "@tus/server + tus-js-client",
    canCancel: true,
    get rssResets() {
      return rssResets;
    },
    async start() {
      server = await startPortChild(serverScript, [directory]);
      endpoint = `http://127.0.0.1:${server.port}/files/`;
    },
    uploadInChild(path) {
      return measured(async () => {
        const {
          ms,
          cpuS,
          peakRssMiB: clientPeakRssMiB,
          url,
        } = await runJsonChild(uploadScript, [endpoint, path]);
        await tusDelete(url);
        return { ms, cpuS, clientPeakRssMiB };
      });
    },
    uploadInProcess(path) {
      return measured(async () => {
        const { ms, url } = await tusUpload(endpoint, path);
        await tusDelete(url);
        return { ms };
      });
    },
    async cancelAt(path, size, at) {
      if (!buffers.has(path)) buffers.set(path, readFile(path));
      const data = await buffers.get(path);
      let succeeded = false;
      let failure;
      let sent = 0;
      let reached;
      const atPoint = new Promise((resolve) => {
        reached = resolve;
      });
      // Bytes sent are counted on the sockets (headers included, a few hundred bytes), not from
      // the throttled onProgress; the http stack is tus-js-client's own, only its agent differs.
      let onWire;
      const creationSent = new Promise((resolve) => {
        onWire = resolve;
      });
      const agent = countingAgent((written) => {
        sent = written;
        onWire();
        if (at !== "creation" && written >= at * size) reached();
      });
      const upload = new Upload(data, {
        endpoint,
        retryDelays: [0, 500],
        metadata: { filename: "cancel.mp4", filetype: "video/mp4" },
        httpStack: new DefaultHttpStack({ agent }),
        onSuccess: () => {
          succeeded = true;
          reached();
        },
        onError: (error) => {
          failure = error;
          reached();
        },
      });
      upload.start();
      // "creation": once the POST is on the wire, 0–2 ms later, so the abort lands while the
      // server handles it (a fixed delay from start() mostly aborted before anything was sent).
      if (at === "creation") {
        await Promise.race([creationSent, atPoint]);
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 2));
      } else await atPoint;
      const phase = succeeded ? "after-success" : upload.url == null ? "creation" : "transfer";
      const sentFraction = Math.round((sent / size) * 1000) / 1000;
      const started = performance.now();
      let error = failure ? `upload failed before the abort: ${failure.message}` : undefined;
      try {
        await upload.abort(true);
      } catch (abortError) {
        error = abortError.message;
      }
      const ms = performance.now() - started;
      agent.destroy();
      return { phase, ms, sentFraction, ...(error ? { error } : {}) };
    },
    async leftovers() {
      const files = (await listTree(directory)).files;
      return {
        items: files.length,
        bytes: files.reduce((sum, file) => sum + file.bytes, 0),
        names: files.slice(0, 20).map((file) => file.name),
      };
    },
    async clear() {
      const files = (await listTree(directory)).files;
      await Promise.all(files.map((file) => rm(file.path, { force: true })));
    },
    async stop() {
      buffers.clear();
      if (!server || server.child.exitCode !== null) return;
      const exited = new Promise((resolve) => server.child.once("exit", resolve));
      server.child.kill("SIGTERM");
      await exited;
    },
  };
}
