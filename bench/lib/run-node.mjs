import { spawn } from "node:child_process";
import { dieWithBenchmark } from "./children.mjs";

/**
 * Runs a Node script as its own process; resolves with its stdout, rejects on a non-zero exit
 * (with the end of its stderr). `env` adds to this process's environment.
 */
export function runNode(args, { env } = {}) {
  return new Promise((resolve, reject) => {
    const child = dieWithBenchmark(
      spawn(process.execPath, args, {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env },
      }),
    );
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      err += chunk;
      process.stderr.write(chunk);
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${args.join(" ")} exited ${code}: ${err.trim().slice(-2000)}`)),
    );
  });
}

/** The last line a child printed, parsed as JSON (the result line of the bench clients). */
export function lastJsonLine(out) {
  return JSON.parse(out.trim().split("\n").pop());
}

/** Runs `node script ...args` and resolves with the JSON of the last line it printed. */
export async function runJsonChild(script, args, options) {
  return lastJsonLine(await runNode([script, ...args], options));
}

/** Starts `node script ...args`, a server that prints its port first; resolves with it and the child. */
export function startPortChild(script, args) {
  const child = dieWithBenchmark(
    spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] }),
  );
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (chunk) => {
      out += chunk;
      const match = /^(\d+)\n/.exec(out);
      if (match) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        child.off("exit", onExit);
        resolve({ child, port: Number(match[1]) });
      }
    };
    const onExit = (code) => reject(new Error(`${script} exited with ${code} before printing its port`));
    child.stdout.setEncoding("utf8").on("data", onData);
    child.once("exit", onExit);
  });
}
