import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { faultInjectingRepository, SqliteUploadRepository } from "../../server/src/index.js";
import { leftovers, removeDir, startTestServer, type TestServer } from "../../server/test/support/harness.js";
import { waitFor } from "../../server/test/support/wait.js";
import { runCli } from "./run-cli.js";

const KiB = 1024;
let t: TestServer;
let repository: ReturnType<typeof faultInjectingRepository>;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "cleancut-cli-kill-"));
  const dataDir = await mkdtemp(join(tmpdir(), "cleancut-cli-kill-data-"));
  repository = faultInjectingRepository(new SqliteUploadRepository(join(dataDir, "cleancut.sqlite")));
  t = await startTestServer({ dataDir, repository });
  env = { CLEANCUT_ENDPOINT: t.url, CLEANCUT_JOURNAL: join(work, "journal.json") };
});
afterEach(async () => {
  t.faults.clear();
  repository.faults.clear();
  await t.close();
  await removeDir(t.dataDir);
  await removeDir(work);
});

describe("the client process killed mid-cancel, then started again", () => {
  it("kill -9 while its DELETE is being refused: the journal survives and resume-cancels finishes it verified", async () => {
    const video = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
    const path = join(work, "clip.mp4");
    await writeFile(path, Buffer.concat([video, randomBytes(2048 * KiB - video.length)]));
    t.faults.inject("writeSegment", { kind: "delay", ms: 150 });
    const run = runCli(["upload", path, "--segment-size", "64KiB", "--concurrency", "2"], env);
    await waitFor(
      async () => (await leftovers(t.dataDir)).some((name) => name.endsWith(".seg (65536 B)")),
      "a stored segment",
    );
    // The server cannot write the tombstone for now, so the cancel cannot even start there.
    repository.faults.inject("transition", { kind: "fail", times: Number.POSITIVE_INFINITY });
    run.child.kill("SIGINT");
    await waitFor(async () => repository.faults.calls("transition") > 0, "the cancel to reach the server");
    const journal = JSON.parse(await readFile(env.CLEANCUT_JOURNAL as string, "utf8"));
    expect(journal).toHaveLength(1);
    run.child.kill("SIGKILL");
    await run.exit;
    // Nothing was deleted: the server never took the cancel.
    expect((await leftovers(t.dataDir)).length).toBeGreaterThan(0);

    repository.faults.clear();
    const resume = runCli(["resume-cancels"], env);
    expect(await resume.exit).toBe(0);
    expect(resume.stdout()).toMatch(/cancelled: .*storage verified empty/);
    expect(await leftovers(t.dataDir)).toEqual([]);
    expect(JSON.parse(await readFile(env.CLEANCUT_JOURNAL as string, "utf8"))).toEqual([]);
    const record = await repository.getUpload(journal[0].id, new AbortController().signal);
    expect(record?.cancelReport).toMatchObject({ verified: true, remainingSegments: 0 });
  });
});
