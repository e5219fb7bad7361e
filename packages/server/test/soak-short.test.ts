import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// Plain JavaScript shared with bench/soak.mjs.
import { runSoak } from "../../../bench/lib/soak-run.mjs";

/**
 * The short version of `npm run bench:soak` that runs in CI: 40 uploads at once for 20 s, half
 * cancelled at random points. Nothing here is timed; it checks what must hold however slow
 * the machine is.
 */
describe("soak (short)", () => {
  it("every cancel verified, no failure, zero bytes left, no descriptor leaked", async () => {
    const work = await mkdtemp(join(tmpdir(), "cleancut-soak-test-"));
    try {
      const result = await runSoak({ concurrent: 40, seconds: 20, workDir: work });
      await rm(result.dataDir, { recursive: true, force: true });
      expect(result.cancelled).toBeGreaterThan(20);
      expect(result.completed).toBeGreaterThan(20);
      expect(result.errors).toEqual([]);
      expect(result.failures).toBe(0);
      expect(result.unverified).toBe(0);
      expect(result.videosDeleted).toBe(result.completed);
      expect({
        files: result.leftoverFiles,
        bytes: result.leftoverBytes,
        folders: result.leftoverFolders,
      }).toEqual({
        files: 0,
        bytes: 0,
        folders: 0,
      });
      // Back to what the idle server held (its database, logs, listening socket).
      expect(result.serverFds.last).toBeLessThanOrEqual(result.serverFds.first + 2);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }, 180_000);
});
