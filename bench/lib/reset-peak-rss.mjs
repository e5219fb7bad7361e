import { writeFile } from "node:fs/promises";

/**
 * Resets a process's peak RSS (VmHWM) to its current RSS (`5` into /proc/<pid>/clear_refs; needs
 * the same user or root), so the next `peakRssMiB` is the peak of what ran since. Returns false
 * when the kernel refused: the peak is then the process's lifetime peak.
 */
export async function resetPeakRss(pid) {
  return writeFile(`/proc/${pid}/clear_refs`, "5").then(
    () => true,
    () => false,
  );
}
