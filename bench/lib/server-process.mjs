import { spawn } from "node:child_process";
import { benchTempDir, dieWithBenchmark } from "./children.mjs";

const cli = new URL("../../packages/cli/bin/cleancut.js", import.meta.url).pathname;

/** Starts `cleancut serve --port 0` in its own process and resolves with its URL and pid. */
export async function startServerProcess(extraArgs = [], { nodeOptions = [] } = {}) {
  const dataDir = await benchTempDir("cleancut-bench-");
  const child = dieWithBenchmark(
    spawn(
      process.execPath,
      // No create rate limit: the benchmarks create uploads as fast as they can from one address,
      // which is what the limit exists to stop; it is tested on its own.
      [
        ...nodeOptions,
        cli,
        "serve",
        "--port",
        "0",
        "--data-dir",
        dataDir,
        "--log-level",
        "warn",
        "--create-rate",
        "0",
        ...extraArgs,
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    ),
  );
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  return {
    url,
    dataDir,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    },
  };
}
