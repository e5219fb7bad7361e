import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Child processes a benchmark started (servers, clients) die with it, and its temp folders go
 * with it: on a normal exit, an uncaught error, Ctrl-C or a kill. Without this, a stopped
 * benchmark leaves its servers running on a machine the next run measures on (seen: three
 * cleancut servers a killed `bench:compare` left behind, still using CPU 20 minutes later),
 * and gigabytes of test files under /tmp.
 */
const children = new Set();
const folders = new Set();
let installed = false;

/** Kills `child` with SIGKILL when this process ends, unless it exited first. */
export function dieWithBenchmark(child) {
  install();
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

/** A fresh folder under the system's temp folder, removed (if still there) when this process ends. */
export async function benchTempDir(prefix) {
  install();
  const folder = await mkdtemp(join(tmpdir(), prefix));
  folders.add(folder);
  return folder;
}

function install() {
  if (installed) return;
  installed = true;
  process.once("exit", () => {
    for (const child of children) child.kill("SIGKILL");
    // "exit" listeners must be synchronous; most runs removed their folders already (force).
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });
  // The default action of these signals skips "exit": turn them into an exit. Not inside a
  // test runner (the soak test uses these helpers), whose workers' signals are its own.
  if (process.env.VITEST !== undefined) return;
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129],
  ]) {
    process.once(signal, () => process.exit(code));
  }
}
