// What an upload costs the whole machine in CPU, not only in time: client, server, storage and
// the kernel's work for them (loopback TCP, page cache) all share the same cores here, so a
// system's CPU-seconds per GiB bound how fast it can go on them.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** Linux reports /proc/stat in USER_HZ ticks: 100 per second on x86 and arm (`getconf CLK_TCK`). */
const ticksPerSecond = 100;
const GiB = 1024 ** 3;

/** CPU-seconds the machine has spent busy since boot, all cores (user, system, interrupts). */
export function machineBusySeconds() {
  const fields = readFileSync("/proc/stat", "utf8")
    .split("\n", 1)[0]
    ?.trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0] = fields ?? [];
  return (user + nice + system + irq + softirq) / ticksPerSecond;
}

/** Starts a measurement; the function it returns gives the elapsed ms and the machine's busy CPU-seconds. */
export function startWindow() {
  const started = performance.now();
  const busy = machineBusySeconds();
  return () => ({ ms: performance.now() - started, cpuS: machineBusySeconds() - busy });
}

export const cores = availableParallelism();

/**
 * CPU-seconds one core needs to SHA-256 a GiB with node:crypto (OpenSSL; SHA-NI where the CPU
 * has it): the median of three passes over 256 MiB, hashed in 8 MiB pieces as a segment is.
 */
export function sha256SecondsPerGiB() {
  const piece = Buffer.alloc(8 * 1024 * 1024, 0x5a);
  const passes = [];
  for (let pass = 0; pass < 3; pass++) {
    const hash = createHash("sha256");
    const started = performance.now();
    for (let n = 0; n < 32; n++) hash.update(piece);
    hash.digest();
    passes.push(((performance.now() - started) / 1000) * (GiB / (32 * piece.length)));
  }
  return passes.sort((a, b) => a - b)[1] ?? Number.NaN;
}
