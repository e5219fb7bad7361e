import type { CreateUploadResponse } from "@cleancut/core";
import { expect } from "vitest";
import type { Api } from "./api.js";
import { leftovers, openFdsUnder, type TestServer } from "./harness.js";

/** Nothing of the upload under the data folder, and no descriptor open on it. */
export async function expectNothingOnDisk(t: TestServer, upload: CreateUploadResponse): Promise<void> {
  expect(await leftovers(t.dataDir, upload.id)).toEqual([]);
  expect(await openFdsUnder(`${t.dataDir}/uploads`)).toEqual([]);
}

/**
 * The promise of a cancel: nothing of the upload in storage (listed from the storage itself;
 * the disk store by default), no operation in flight, and a verified report in its status.
 */
export async function expectCancelledAndGone(
  t: TestServer,
  api: Api,
  upload: CreateUploadResponse,
  expectNothingStored: (t: TestServer, upload: CreateUploadResponse) => Promise<void> = expectNothingOnDisk,
): Promise<void> {
  await expectNothingStored(t, upload);
  expect(t.server.inflight.count(upload.id)).toBe(0);
  const status = await api.status(upload);
  expect(status.body.state).toBe("cancelled");
  expect(status.body.cancel).toMatchObject({ verified: true, remainingSegments: 0 });
}
