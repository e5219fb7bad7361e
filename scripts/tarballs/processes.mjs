// Child processes for the tarball check: every one is tracked, so a failure anywhere still
// stops them all, and each runs with an environment that points at nothing in the repository.
import { spawn } from "node:child_process";

const started = new Set();

/**
 * The caller's environment without what would let the repository leak in: NODE_PATH, and what
 * `npm run` sets about the project it runs in (npm_config_local_prefix, npm_package_*,
 * npm_lifecycle_*). Other npm_config_* stay: a registry, proxy or CA set in the environment is
 * needed to install from the registry.
 */
export function cleanEnv() {
  const repoBound =
    /^(NODE_PATH|INIT_CWD|npm_config_local_prefix|npm_package_.*|npm_lifecycle_.*|npm_command)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !repoBound.test(key)));
}

/** Starts a command; its output is collected, and `exited` resolves with its exit code. */
export function start(command, args, { cwd, env = cleanEnv() }) {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  started.add(child);
  const out = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (chunk) => {
    out.stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk) => {
    out.stderr += chunk;
  });
  const exited = new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      started.delete(child);
      resolve(code ?? signal);
    });
  });
  return { child, out, exited };
}

/** Runs a command to its end; a non-zero exit is an error quoting the command's last output. */
export async function run(command, args, options) {
  const { out, exited } = start(command, args, options);
  const code = await exited;
  if (code !== 0) {
    const tail = (out.stderr || out.stdout).trim().split("\n").slice(-3).join(" | ");
    throw new Error(`${command} ${args.join(" ")} exited with ${code}: ${tail}`);
  }
  return out;
}

/** Resolves once `test` holds for the text a stream has produced so far, or rejects at the deadline. */
export function waitFor(out, stream, test, ms, what) {
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const match = test(out[stream]);
      if (match) {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(match);
      }
    }, 20);
    const deadline = setTimeout(() => {
      clearInterval(timer);
      reject(new Error(`${what} not seen within ${ms} ms; ${stream}: ${out[stream].trim().slice(-300)}`));
    }, ms);
  });
}

/** Stops every process still running (SIGTERM, then SIGKILL after 5 s) and waits for them. */
export async function stopAll() {
  await Promise.all(
    [...started].map(
      (child) =>
        new Promise((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const kill = setTimeout(() => child.kill("SIGKILL"), 5000);
          child.once("close", () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill("SIGTERM");
        }),
    ),
  );
}
