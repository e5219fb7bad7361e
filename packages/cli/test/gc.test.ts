import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { newId } from "../../server/src/ids.js";
import { segmentFileName } from "../../server/src/stores/disk-names.js";
import { Api } from "../../server/test/support/api.js";
import { leftovers, removeDir, startTestServer } from "../../server/test/support/harness.js";
import { runCli } from "./run-cli.js";

const KiB = 1024;
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "cleancut-cli-gc-"));
});
afterEach(async () => {
  await removeDir(dataDir);
});

/** A segment folder for an upload id the database never had. */
async function plantOrphan(): Promise<string> {
  const id = newId();
  const dir = join(dataDir, "uploads", id);
  await mkdir(dir, { recursive: true });
  const bytes = randomBytes(64 * KiB);
  await writeFile(join(dir, segmentFileName(0, createHash("sha256").update(bytes).digest("hex"))), bytes);
  return id;
}

describe("cleancut gc", () => {
  it("--dry-run --json reports the orphan and removes nothing; gc removes it and keeps a live upload", async () => {
    // A live upload made through a real server on the same data folder, which gc must leave alone.
    const t = await startTestServer({ dataDir });
    const api = new Api(t.url);
    const live = await api.create(256 * KiB, 64 * KiB);
    expect((await api.putSegment(live, 0, randomBytes(64 * KiB))).status).toBeLessThan(300);
    await t.close();
    const orphan = await plantOrphan();
    const before = await leftovers(dataDir);
    expect(before.filter((name) => name.includes(orphan))).toHaveLength(1);

    const dry = runCli(["gc", "--dry-run", "--json", "--data-dir", dataDir, "--grace-minutes", "0"]);
    expect(await dry.exit).toBe(0);
    const report = JSON.parse(dry.stdout());
    expect(report).toMatchObject({ dryRun: true, removed: 0, failed: [] });
    expect(report.orphans).toEqual([
      expect.objectContaining({ id: orphan, kind: "segments", bytes: 64 * KiB, reason: "no_record" }),
    ]);
    expect((await leftovers(dataDir)).sort()).toEqual([...before].sort());

    const kept = runCli(["gc", "--data-dir", dataDir]);
    expect(await kept.exit).toBe(0);
    expect(kept.stdout()).toMatch(/^total: 2 stored entries scanned, 0 orphans .*2 within the grace period/m);
    expect(await leftovers(dataDir)).toEqual(before);

    const run = runCli(["gc", "--data-dir", dataDir, "--grace-minutes", "0"]);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toContain(orphan);
    expect(run.stdout()).toMatch(/^total: .*1 orphans .*1 removed/m);
    const after = await leftovers(dataDir);
    expect(after.filter((name) => name.includes(orphan))).toEqual([]);
    expect(after.filter((name) => name.includes(live.id))).toHaveLength(1);
  });

  it("refuses an unknown flag with a usage error", async () => {
    const run = runCli(["gc", "--data-dir", dataDir, "--grace", "5"]);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/^cleancut: /);
  });
});
