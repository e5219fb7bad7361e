import { execFileSync } from "node:child_process";
import { mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, randomFile, sliceSegment } from "./support/api.js";
import { filesUnder, leftovers, startTestServer, type TestServer } from "./support/harness.js";

const MiB = 1024 * 1024;
let mountPoint: string;
let t: TestServer;

/**
 * A real full disk: the data folder is a 6 MiB tmpfs mounted for this test (the tests run as
 * root, as .ci/run does). The server's SQLite file lives there too, as it would.
 */
beforeAll(async () => {
  mountPoint = await mkdtemp(join(tmpdir(), "cleancut-full-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mountPoint]);
  t = await startTestServer({ dataDir: mountPoint });
});
afterAll(async () => {
  await t?.close();
  execFileSync("umount", [mountPoint]);
  await rmdir(mountPoint);
});

const uploadBytes = async () =>
  (await filesUnder(join(mountPoint, "uploads"))).reduce((sum, file) => sum + file.size, 0);

describe("disk full on the data folder", () => {
  it("a segment that does not fit is refused with 507 storage_full and leaves no partial file; cancel still verifies empty", async () => {
    const api = new Api(t.url);
    const file = randomFile(16 * MiB);
    const upload = await api.create(file.length, MiB);
    let refused: { status: number; body: any } | undefined;
    let stored = 0;
    for (let index = 0; index < upload.segmentCount; index++) {
      const response = await api.putSegment(upload, index, sliceSegment(file, MiB, index));
      if (response.status !== 201) {
        refused = response;
        break;
      }
      stored += 1;
    }
    expect(refused?.status).toBe(507);
    expect(refused?.body.error.code).toBe("storage_full");
    expect(stored).toBeGreaterThan(0);
    // Only whole, checked segments are on disk: the one that did not fit left nothing.
    expect(await uploadBytes()).toBe(stored * MiB);
    expect((await api.segments(upload)).body).toHaveLength(stored);

    const cancel = await api.cancel(upload);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ verified: true, deletedSegments: stored, remainingSegments: 0 });
    expect(await leftovers(mountPoint, upload.id)).toEqual([]);

    // The space is back: a new upload fits again.
    const small = randomFile(2 * MiB);
    const next = await api.create(small.length, MiB);
    expect((await api.putSegment(next, 0, sliceSegment(small, MiB, 0))).status).toBe(201);
    expect((await api.cancel(next)).status).toBe(200);
    expect(await leftovers(mountPoint)).toEqual([]);
  });
});
