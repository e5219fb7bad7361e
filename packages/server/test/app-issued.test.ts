import type { CreateUploadResponse } from "@cleancut/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Api, randomFile } from "./support/api.js";
import { leftovers, removeDir, startTestServer, type TestServer } from "./support/harness.js";

const KiB = 1024;
const apiKey = "app-key-abcdefghijklmnopqrstuvwxyz";
let t: TestServer;
let api: Api;

beforeAll(async () => {
  t = await startTestServer({ apiKey });
  api = new Api(t.url);
});
afterAll(async () => {
  await t?.close();
  if (t !== undefined) await removeDir(t.dataDir);
});

/** The application's backend: creates with the API key, for one of its users. */
async function appCreates(owner: string, metadata?: Record<string, string>): Promise<CreateUploadResponse> {
  const created = await api.call<CreateUploadResponse>("POST", "/v1/uploads", {
    token: apiKey,
    json: {
      filename: "clip.mp4",
      size: 128 * KiB,
      contentType: "video/mp4",
      segmentSize: 64 * KiB,
      owner,
      ...(metadata === undefined ? {} : { metadata }),
    },
  });
  expect(created.status).toBe(201);
  return created.body;
}

describe("app-issued uploads", () => {
  it("the app creates for an owner, the browser sends bytes with the token, the app cancels with the API key: verified", async () => {
    const upload = await appCreates("alice", { course: "c-1" });
    // The browser holds only {id, token}.
    expect((await api.putSegment(upload, 0, randomFile(64 * KiB))).status).toBe(201);
    const seen = await api.status(upload);
    expect(seen.body).toMatchObject({ owner: "alice", metadata: { course: "c-1" }, receivedSegments: 1 });
    const byApp = await api.call("GET", `/v1/uploads/${upload.id}`, { token: apiKey });
    expect(byApp.status).toBe(200);
    expect(byApp.body).toMatchObject({ id: upload.id, owner: "alice" });

    const cancelled = await api.call("DELETE", `/v1/uploads/${upload.id}`, { token: apiKey });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({
      state: "cancelled",
      verified: true,
      deletedSegments: 1,
      deletedBytes: 64 * KiB,
      remainingSegments: 0,
    });
    expect(await leftovers(t.dataDir, upload.id)).toEqual([]);
    // The same report for the browser's own cancel afterwards.
    const again = await api.cancel(upload);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ verified: true, deletedSegments: 1 });
  });

  it("?owner= lists one owner's uploads, newest first, with the API key only", async () => {
    const first = await appCreates("owner-b");
    // Newest first is by creation time in milliseconds: two creates in the same one would tie.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await appCreates("owner-b");
    await appCreates("owner-c");
    const listed = await api.call("GET", "/v1/uploads?owner=owner-b", { token: apiKey });
    expect(listed.status).toBe(200);
    expect(listed.body.map((upload: { id: string }) => upload.id)).toEqual([second.id, first.id]);
    expect(listed.body.every((upload: { owner: string }) => upload.owner === "owner-b")).toBe(true);
    expect((await api.call("GET", "/v1/uploads?owner=nobody", { token: apiKey })).body).toEqual([]);
    expect((await api.call("GET", "/v1/uploads?owner=owner-b")).status).toBe(401);
    expect((await api.call("GET", "/v1/uploads?owner=owner-b", { token: second.token })).status).toBe(403);
  });

  it("another upload's token or a wrong key cannot read or cancel; nothing is cancelled", async () => {
    const upload = await appCreates("dave");
    const other = await appCreates("erin");
    for (const token of [other.token, `${apiKey}x`, "wrong"]) {
      expect((await api.call("DELETE", `/v1/uploads/${upload.id}`, { token })).status).toBe(403);
      expect((await api.call("GET", `/v1/uploads/${upload.id}`, { token })).status).toBe(403);
    }
    expect((await api.status(upload)).body.state).toBe("uploading");
    expect((await api.call("DELETE", "/v1/uploads/AAAAAAAAAAAAAAAAAAAAAA", { token: apiKey })).status).toBe(
      404,
    );
  });

  it("owner without the API key is refused; without an authorizer the API key is still needed to create", async () => {
    const noKey = await api.call("POST", "/v1/uploads", {
      json: { filename: "a.mp4", size: 1000, contentType: "video/mp4", owner: "mallory" },
    });
    expect(noKey.status).toBe(401);
    const upload = await appCreates("frank");
    const withToken = await api.call("POST", "/v1/uploads", {
      token: upload.token,
      json: { filename: "a.mp4", size: 1000, contentType: "video/mp4", owner: "mallory" },
    });
    expect(withToken.status).toBe(403);
    expect(withToken.body.error.code).toBe("forbidden");
  });

  it("an owner must be 1–255 characters", async () => {
    for (const owner of ["", "o".repeat(256)]) {
      const refused = await api.call("POST", "/v1/uploads", {
        token: apiKey,
        json: { filename: "a.mp4", size: 1000, contentType: "video/mp4", owner },
      });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe("invalid_request");
    }
  });
});
