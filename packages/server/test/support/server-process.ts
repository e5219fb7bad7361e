import { type ChildProcess, spawn } from "node:child_process";

const cli = new URL("../../../cli/bin/cleancut.js", import.meta.url).pathname;

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** kill -9: no shutdown hook runs, like a crash or an OOM kill. */
  crash(): Promise<void>;
  stop(): Promise<void>;
}

/** `cleancut serve` in its own process (the built CLI), so a test can kill -9 it. */
export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [cli, "serve", "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => reject(new Error(`cleancut serve exited with ${code}: ${output}`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    url,
    child,
    async crash() {
      child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}
