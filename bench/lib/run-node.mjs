import { spawn } from "node:child_process";

/** Runs a Node script as its own process; resolves with its stdout, rejects on a non-zero exit. */
export function runNode(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk;
    });
    child.on("exit", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${args.join(" ")} exited ${code}`)),
    );
  });
}

/** The last line a child printed, parsed as JSON (the result line of the bench clients). */
export function lastJsonLine(out) {
  return JSON.parse(out.trim().split("\n").pop());
}
