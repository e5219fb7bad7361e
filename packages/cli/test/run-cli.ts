import { type ChildProcess, spawn } from "node:child_process";

const bin = new URL("../bin/cleancut.js", import.meta.url).pathname;

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number>;
  /** Resolves once stderr or stdout contains `text`. */
  waitForOutput(text: string | RegExp, timeoutMs?: number): Promise<void>;
}

/** Runs the real `cleancut` command in its own process. */
export function runCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const watchers: Array<() => void> = [];
  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    notify();
  });
  // "close", not "exit": the process may have exited before its last output was read.
  const exit = new Promise<number>((resolve) =>
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exit,
    waitForOutput(text, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const matches = () =>
          typeof text === "string" ? (stdout + stderr).includes(text) : text.test(stdout + stderr);
        if (matches()) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`no ${text} in output:\n${stdout}\n${stderr}`)),
          timeoutMs,
        );
        const watcher = () => {
          if (!matches()) return;
          clearTimeout(timer);
          watchers.splice(watchers.indexOf(watcher), 1);
          resolve();
        };
        watchers.push(watcher);
      });
    },
  };
}
