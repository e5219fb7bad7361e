// How fast any system that keeps cleancut's guarantees could go on this machine's cores, from
// figures measured in the same run: what it costs the machine to move a GiB over loopback into
// a file (the raw PUT → file, no hashing; synced or not), plus the SHA-256 passes cleancut's
// API requires.

/**
 * SHA-256 passes over every byte that cleancut's API requires: the client's `Content-Digest`
 * of each segment, the server's check of it (and the segment file's name), and the video's
 * own SHA-256, which is over the whole file in order and so cannot be made from the segments'.
 */
export const requiredHashPasses = 3;

/**
 * @param {{ writeCpuPerGiB: number, sha256SPerGiB: number, cores: number }} measured
 *   `writeCpuPerGiB`: the machine's CPU-seconds per GiB of a raw PUT into a file.
 * @returns {{ cpuPerGiB: number, mibps: number }} CPU-seconds per GiB at the least, and the
 *   MiB/s the cores allow at that cost if they were busy all the time (no waiting on the disk).
 */
export function cpuBound({ writeCpuPerGiB, sha256SPerGiB, cores }) {
  const cpuPerGiB = writeCpuPerGiB + requiredHashPasses * sha256SPerGiB;
  return { cpuPerGiB, mibps: (cores / cpuPerGiB) * 1024 };
}
