import type { CreateUploadResponse } from "@cleancut/core";
import { expect } from "vitest";
import type { Api } from "./api.js";
import { leftovers, openFdsUnder, type TestServer } from "./harness.js";

/**
 * The promise of a cancel, on a disk store: nothing of the upload under the data folder, no
 * descriptor open on it, no operation in flight, and a verified report in its status.
 */
export async function expectCancelledAndGone(
  t: TestServer,
  api: Api,
  upload: CreateUploadResponse,
): Promise<void> {
  expect(await leftovers(t.dataDir, upload.id)).toEqual([]);
  expect(await openFdsUnder(`${t.dataDir}/uploads`)).toEqual([]);
  expect(t.server.inflight.count(upload.id)).toBe(0);
  const status = await api.status(upload);
  expect(status.body.state).toBe("cancelled");
  expect(status.body.cancel).toMatchObject({ verified: true, remainingSegments: 0 });
}
