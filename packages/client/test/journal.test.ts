import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createUpload, FileJournal, NodeFileSource, resumeCancels } from "../src/node/index.js";
import {
  expectFullyCleaned,
  leftovers,
  randomFile,
  removeDir,
  segmentSize,
  startTestServer,
  type TestServer,
  tempDir,
  waitForEvent,
  waitUntil,
} from "./support.js";

let t: TestServer | undefined;
afterEach(async () => {
  if (t !== undefined) {
    await t.close();
    await removeDir(t.dataDir);
    t = undefined;
  }
});

describe("FileJournal", () => {
  it("persists entries across instances and writes atomically (no temp file left)", async () => {
    const dir = await tempDir("cleancut-journal");
    const path = join(dir, "nested", "journal.json");
    const journal = new FileJournal(path);
    const entry = (id: string) => ({
      endpoint: "http://x",
      id,
      token: `t-${id}`,
      requestedAt: "2024-01-01T00:00:00Z",
    });
    await Promise.all([journal.add(entry("a")), journal.add(entry("b")), journal.add(entry("c"))]);
    await journal.remove("b");
    expect((await new FileJournal(path).list()).map((e) => e.id).sort()).toEqual(["a", "c"]);
    expect(JSON.parse(await readFile(path, "utf8"))).toHaveLength(2);
    expect(await readdir(join(dir, "nested"))).toEqual(["journal.json"]);
  });

  it("an absent file is an empty journal", async () => {
    expect(await new FileJournal("/nonexistent-dir/j.json").list()).toEqual([]);
  });
});

describe("server down at cancel time", () => {
  it("journals the cancel, rejects with cleanup_unverified, and resumeCancels finishes it once the server is back", async () => {
    t = await startTestServer();
    const port = Number(new URL(t.url).port);
    const dataDir = t.dataDir;
    const journalDir = await tempDir("cleancut-journal");
    const journal = new FileJournal(join(journalDir, "cancels.json"));
    const { path } = await randomFile(8 * segmentSize);
    const upload = createUpload(await NodeFileSource.open(path), {
      endpoint: t.url,
      segmentSize,
      concurrency: 2,
      journal,
      retries: 2,
      retryDelay: { baseMs: 10, maxMs: 20 },
    });
    let seen = 0;
    const three = waitForEvent<unknown>(
      (l) => upload.on("segment", l),
      () => ++seen >= 3,
    );
    upload.start();
    await three;
    upload.pause();
    await waitUntil(() => upload.activeRequests === 0, "paused");
    expect((await leftovers(dataDir, upload.id)).length).toBeGreaterThan(0);

    // Down hard, like a crash: drop every connection. (A graceful close can wait up to the
    // server's 60 s connection timeout on a socket whose PUT the client aborted: see the report.)
    t.server.app.server.closeAllConnections();
    await t.close();
    t = undefined;
    await expect(upload.cancel()).rejects.toMatchObject({ code: "cleanup_unverified" });
    expect(upload.activeRequests).toBe(0);
    const pending = await journal.list();
    expect(pending).toEqual([expect.objectContaining({ id: upload.id, token: upload.token })]);
    expect((await leftovers(dataDir, upload.id)).length).toBeGreaterThan(0); // nothing could be deleted yet

    t = await startTestServer({ dataDir, port });
    const results = await resumeCancels(new FileJournal(join(journalDir, "cancels.json")));
    expect(results).toEqual([expect.objectContaining({ id: upload.id, ok: true })]);
    const first = results[0];
    expect(first?.ok && first.report).toMatchObject({ verified: true, outcome: "verified" });
    expect(await journal.list()).toEqual([]);
    await expectFullyCleaned(upload, dataDir);
  });

  it("a journaled cancel for an upload the server no longer knows is finished as already_gone", async () => {
    t = await startTestServer();
    const journal = new FileJournal(join(await tempDir("cleancut-journal"), "j.json"));
    await journal.add({
      endpoint: t.url,
      id: "AAAAAAAAAAAAAAAAAAAAAA",
      token: "x".repeat(43),
      requestedAt: new Date().toISOString(),
    });
    const [result] = await resumeCancels(journal);
    expect(result).toMatchObject({ ok: true, report: { outcome: "already_gone", verified: true } });
    expect(await journal.list()).toEqual([]);
  });
});
