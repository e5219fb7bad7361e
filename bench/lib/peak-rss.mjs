import { readFile } from "node:fs/promises";

/** Peak resident set size of a live process (VmHWM), in MiB; undefined once it has exited. */
export async function peakRssMiB(pid) {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => undefined);
  const match = status && /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : undefined;
}
