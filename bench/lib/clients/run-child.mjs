import { spawn } from "node:child_process";

/** Runs `node script ...args` and resolves with the JSON of the last line it printed. */
export function runJsonChild(script, args, { env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk) => {
      err += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      const last = out.trim().split("\n").at(-1);
      if (code !== 0 || !last) {
        reject(new Error(`${script} exited with ${code}: ${err.trim().slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last));
      } catch {
        reject(new Error(`${script} printed no JSON: ${out.slice(-500)}`));
      }
    });
  });
}

/** Starts `node script ...args`, a server that prints its port first; resolves with it and the child. */
export function startPortChild(script, args) {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] });
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
