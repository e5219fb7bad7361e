import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { leftovers, removeDir, startTestServer, type TestServer } from "../../server/test/support/harness.js";
import { waitFor } from "../../server/test/support/wait.js";
import { runCli } from "./run-cli.js";

const KiB = 1024;
let t: TestServer;
let work: string;
let env: Record<string, string>;

beforeEach(async () => {
  t = await startTestServer();
  work = await mkdtemp(join(tmpdir(), "cleancut-cli-"));
  env = { CLEANCUT_ENDPOINT: t.url, CLEANCUT_JOURNAL: join(work, "journal.json") };
});
afterEach(async () => {
  t.faults.clear();
  await t.close();
  await removeDir(t.dataDir);
  await removeDir(work);
});

const noStackTrace = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

/** A file with a real MP4 header followed by random bytes: big enough to take many segments. */
async function videoLikeFile(size: number): Promise<string> {
  const video = await readFile(process.env.CLEANCUT_TEST_VIDEO as string);
  const path = join(work, "clip.mp4");
  await writeFile(path, Buffer.concat([video, randomBytes(size - video.length)]));
  return path;
}

describe("cleancut upload", () => {
  it("uploads a real video and prints where to play it", async () => {
    const run = runCli(["upload", process.env.CLEANCUT_TEST_VIDEO as string, "--segment-size", "64KiB"], env);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toMatch(/uploaded testsrc-3s\.mp4: .*mp4, 640×360/);
    expect(run.stdout()).toMatch(/video id {2}[A-Za-z0-9_-]{22}/);
    const json = runCli(["upload", process.env.CLEANCUT_TEST_VIDEO as string, "--json"], env);
    expect(await json.exit).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ probe: { width: 640, height: 360 } });
  });

  it("Ctrl-C mid-way: the bar turns into cleanup, the verified report is printed, exit 130, nothing left", async () => {
    const path = await videoLikeFile(2048 * KiB);
    t.faults.inject("writeSegment", { kind: "delay", ms: 150 });
    const run = runCli(["upload", path, "--segment-size", "64KiB", "--concurrency", "2"], env);
    await waitFor(
      async () => (await leftovers(t.dataDir)).some((name) => name.endsWith(".seg (65536 B)")),
      "a stored segment",
    );
    run.child.kill("SIGINT");
    expect(await run.exit).toBe(130);
    expect(run.stderr()).toContain("cancelling");
    expect(run.stdout()).toMatch(
      /^cancelled: \d+ segments? \(.+\) deleted.*storage verified empty in \d+ ms$/m,
    );
    expect(await leftovers(t.dataDir)).toEqual([]);
    expect(JSON.parse(await readFile(env.CLEANCUT_JOURNAL as string, "utf8").catch(() => "[]"))).toEqual([]);
    noStackTrace(run.stderr());
  });

  it("server gone at Ctrl-C: exit 1 and the journal; resume-cancels finishes it once the server is back", async () => {
    const path = await videoLikeFile(2048 * KiB);
    t.faults.inject("writeSegment", { kind: "delay", ms: 150 });
    const run = runCli(["upload", path, "--segment-size", "64KiB", "--concurrency", "2"], env);
    await waitFor(
      async () => (await leftovers(t.dataDir)).some((name) => name.endsWith(".seg (65536 B)")),
      "a stored segment",
    );
    const port = new URL(t.url).port;
    t.server.app.server.closeAllConnections();
    await t.close();
    run.child.kill("SIGINT");
    expect(await run.exit).toBe(1);
    expect(run.stderr()).toMatch(/cancel could not be verified.*cleancut resume-cancels/s);
    noStackTrace(run.stderr());
    expect(JSON.parse(await readFile(env.CLEANCUT_JOURNAL as string, "utf8"))).toHaveLength(1);
    expect((await leftovers(t.dataDir)).length).toBeGreaterThan(0);

    t = await startTestServer({ dataDir: t.dataDir, port: Number(port) });
    const resume = runCli(["resume-cancels"], env);
    expect(await resume.exit).toBe(0);
    expect(resume.stdout()).toMatch(/cancelled: .*storage verified empty/);
    expect(await leftovers(t.dataDir)).toEqual([]);
    expect(JSON.parse(await readFile(env.CLEANCUT_JOURNAL as string, "utf8"))).toEqual([]);
  });

  it("says clearly what is wrong, without a stack trace", async () => {
    const missing = runCli(["upload", join(work, "nope.mp4")], env);
    expect(await missing.exit).toBe(1);
    expect(missing.stderr()).toMatch(/^cleancut: .*nope\.mp4.*\(file_not_found\)$/m);
    noStackTrace(missing.stderr());

    const refused = runCli(["upload", await videoLikeFile(100 * KiB), "--segment-size", "1KiB"], env);
    expect(await refused.exit).toBe(1);
    expect(refused.stderr()).toMatch(/\(invalid_segment_size\)/);
    noStackTrace(refused.stderr());

    const usage = runCli(["upload"], env);
    expect(await usage.exit).toBe(2);
    expect(usage.stderr()).toMatch(/^cleancut: upload takes exactly one file/m);

    const unreachable = runCli(["status", "AAAAAAAAAAAAAAAAAAAAAA", "--token", "x"], {
      ...env,
      CLEANCUT_ENDPOINT: "http://127.0.0.1:9",
    });
    expect(await unreachable.exit).toBe(1);
    expect(unreachable.stderr()).toMatch(/network_error.*is the server running/);
    noStackTrace(unreachable.stderr());
  });
});

describe("cleancut cancel, status, ls", () => {
  it("cancels by id and token, shows status, lists uploads", async () => {
    const created = await fetch(`${t.url}/v1/uploads`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        filename: "a.mp4",
        size: 128 * KiB,
        contentType: "video/mp4",
        segmentSize: 64 * KiB,
      }),
    }).then((response) => response.json() as Promise<{ id: string; token: string }>);
    await fetch(`${t.url}/v1/uploads/${created.id}/segments/0`, {
      method: "PUT",
      headers: { authorization: `Bearer ${created.token}` },
      body: randomBytes(64 * KiB),
    });
    const ls = runCli(["ls"], env);
    expect(await ls.exit).toBe(0);
    expect(ls.stdout()).toMatch(new RegExp(`${created.id} +uploading +1/2`));

    const status = runCli(["status", created.id, "--token", created.token, "--json"], env);
    expect(await status.exit).toBe(0);
    expect(JSON.parse(status.stdout())).toMatchObject({ state: "uploading", receivedSegments: 1 });

    const cancel = runCli(["cancel", created.id, "--token", created.token], env);
    expect(await cancel.exit).toBe(0);
    expect(cancel.stdout()).toMatch(/cancelled: 1 segment \(64\.0 KiB\) deleted; storage verified empty/);
    expect(await leftovers(t.dataDir, created.id)).toEqual([]);

    const after = runCli(["status", created.id, "--token", created.token], env);
    expect(await after.exit).toBe(0);
    expect(after.stdout()).toMatch(/cancelled/);
  });
});
