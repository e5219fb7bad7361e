import type { UploadEvent } from "@cleancut/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Api } from "./support/api.js";
import { refusedUrl, TestAuthorizer } from "./support/authorizer.js";
import { leftovers, removeDir, startTestServer, type TestServer } from "./support/harness.js";

const KiB = 1024;
const apiKey = "app-key-0123456789abcdef0123456789";
let authorizer: TestAuthorizer;
let t: TestServer;
let api: Api;

beforeAll(async () => {
  authorizer = await TestAuthorizer.start();
  // Generous: the answers in this file come at once, but on 2 busy cores one may take a while.
  // The timeout itself is tested on a server of its own, below.
  t = await startTestServer({ authorizeUrl: authorizer.url, authorizeTimeoutMs: 10_000, apiKey });
  api = new Api(t.url);
});
afterAll(async () => {
  await t?.close();
  await authorizer?.close();
  if (t !== undefined) await removeDir(t.dataDir);
});
beforeEach(() => {
  authorizer.calls.length = 0;
  authorizer.answer = () => ({ status: 200, body: {} });
});

const declaration = { filename: "talk.mp4", size: 200 * KiB, contentType: "video/mp4" };

async function uploadCount(): Promise<number> {
  return (await t.server.repository.listUploads({ limit: 1000 }, AbortSignal.timeout(5000))).length;
}

/** A refused create must leave nothing: no record, no storage. */
async function expectNothingCreated(before: number): Promise<void> {
  expect(await uploadCount()).toBe(before);
  expect(await leftovers(t.dataDir)).toEqual([]);
}

function tusCreate(headers: Record<string, string>): Promise<Response> {
  return fetch(`${t.url}/files/`, {
    method: "POST",
    headers: { "tus-resumable": "1.0.0", "upload-length": String(100 * KiB), ...headers },
  });
}

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("the authorizer allows", () => {
  it("and sets owner, metadata (merged over the caller's) and maxSize: recorded, echoed, in upload.created", async () => {
    authorizer.answer = () => ({
      status: 200,
      body: { owner: "user-42", metadata: { plan: "pro", team: "a" }, maxSize: 1024 * KiB },
    });
    const events: UploadEvent[] = [];
    const unlisten = t.server.repository.onEventCommitted((event) => events.push(event));
    try {
      const created = await api.call("POST", "/v1/uploads", {
        json: { ...declaration, metadata: { title: "Talk", plan: "free" } },
        headers: { cookie: "session=abc", authorization: "Bearer user-jwt", "x-internal": "secret" },
      });
      expect(created.status).toBe(201);
      expect(authorizer.calls).toHaveLength(1);
      expect(authorizer.calls[0]?.body).toEqual({
        ...declaration,
        metadata: { title: "Talk", plan: "free" },
        protocol: "v1",
        headers: { cookie: "session=abc", authorization: "Bearer user-jwt" },
      });
      expect(authorizer.calls[0]?.headers["content-type"]).toBe("application/json");
      const status = await api.status(created.body);
      expect(status.body).toMatchObject({
        owner: "user-42",
        metadata: { title: "Talk", plan: "pro", team: "a" },
      });
      await expect.poll(() => events.find((event) => event.data.uploadId === created.body.id)).toBeDefined();
      const event = events.find((e) => e.data.uploadId === created.body.id);
      expect(event).toMatchObject({
        type: "upload.created",
        data: { owner: "user-42", metadata: { title: "Talk", plan: "pro", team: "a" }, protocol: "v1" },
      });
    } finally {
      unlisten();
    }
  });

  it("an empty 2xx body allows without owner; the upload has the caller's metadata only", async () => {
    authorizer.answer = () => ({ status: 204 });
    const created = await api.call("POST", "/v1/uploads", { json: { ...declaration, metadata: { a: "1" } } });
    expect(created.status).toBe(201);
    const status = await api.status(created.body);
    expect(status.body.owner).toBeUndefined();
    expect(status.body.metadata).toEqual({ a: "1" });
    await api.cancel(created.body);
  });

  it("maxSize below the upload's size: 413 upload_too_large, nothing created", async () => {
    await expect.poll(async () => leftovers(t.dataDir)).toEqual([]);
    const before = await uploadCount();
    authorizer.answer = () => ({ status: 200, body: { owner: "u", maxSize: 100 * KiB } });
    const refused = await api.call("POST", "/v1/uploads", { json: declaration });
    expect(refused.status).toBe(413);
    expect(refused.body.error).toMatchObject({
      code: "upload_too_large",
      details: { size: 200 * KiB, limit: 100 * KiB },
    });
    await expectNothingCreated(before);
  });

  it("the API key skips the authorizer: the application itself is calling", async () => {
    const created = await api.call("POST", "/v1/uploads", { json: declaration, token: apiKey });
    expect(created.status).toBe(201);
    expect(authorizer.calls).toHaveLength(0);
    await api.cancel(created.body);
  });
});

describe("the authorizer refuses", () => {
  it("4xx: its status and message pass through as rejected_by_app; nothing created", async () => {
    await expect.poll(async () => leftovers(t.dataDir)).toEqual([]);
    const before = await uploadCount();
    const answers: Array<[number, { body?: unknown; text?: string }, string]> = [
      [
        402,
        { body: { error: { message: "upgrade to upload videos this long" } } },
        "upgrade to upload videos this long",
      ],
      [403, { body: { message: "not your project" } }, "not your project"],
      [401, { text: "please log in\n" }, "please log in"],
      [429, { body: { unrelated: true } }, "the application refused this upload (429)"],
    ];
    for (const [status, answer, message] of answers) {
      authorizer.answer = () => ({ status, ...answer });
      const refused = await api.call("POST", "/v1/uploads", { json: declaration });
      expect(refused.status).toBe(status);
      expect(refused.body.error).toMatchObject({ code: "rejected_by_app", message });
    }
    await expectNothingCreated(before);
  });

  it("a long refusal message is cut to one bounded line", async () => {
    authorizer.answer = () => ({ status: 400, text: `bad\r\n${"x".repeat(5000)}` });
    const refused = await api.call("POST", "/v1/uploads", { json: declaration });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe("rejected_by_app");
    expect(refused.body.error.message.length).toBeLessThanOrEqual(500);
    expect(refused.body.error.message).toMatch(/^bad x+…$/);
  });

  it("5xx, a hang past the timeout, or an unusable answer: 503 authorizer_unavailable; nothing created", async () => {
    await expect.poll(async () => leftovers(t.dataDir)).toEqual([]);
    const before = await uploadCount();
    authorizer.answer = () => ({ status: 502, text: "bad gateway" });
    const failed = await api.call("POST", "/v1/uploads", { json: declaration });
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("authorizer_unavailable");

    authorizer.answer = () => "hang";
    const short = await startTestServer({ authorizeUrl: authorizer.url, authorizeTimeoutMs: 500, apiKey });
    try {
      const started = Date.now();
      const timedOut = await new Api(short.url).call("POST", "/v1/uploads", { json: declaration });
      expect(timedOut.status).toBe(503);
      expect(timedOut.body.error).toMatchObject({ code: "authorizer_unavailable" });
      expect(timedOut.body.error.message).toMatch(/within 500 ms/);
      // The timeout is 500 ms: generous bound for 2 busy cores, far below "hangs".
      expect(Date.now() - started).toBeLessThan(5000);
      expect(await leftovers(short.dataDir)).toEqual([]);
      expect(await short.server.repository.listUploads({ limit: 10 }, AbortSignal.timeout(5000))).toEqual([]);
    } finally {
      await short.close();
      await removeDir(short.dataDir);
    }

    for (const body of [{ owner: 42 }, { metadata: { n: 1 } }, { maxSize: "big" }, ["not", "an", "object"]]) {
      authorizer.answer = () => ({ status: 200, body });
      const unusable = await api.call("POST", "/v1/uploads", { json: declaration });
      expect(unusable.status).toBe(503);
      expect(unusable.body.error.message).toMatch(/cannot use/);
    }
    authorizer.answer = () => ({ status: 200, text: "yes" });
    expect((await api.call("POST", "/v1/uploads", { json: declaration })).status).toBe(503);
    await expectNothingCreated(before);
  });

  it("an authorizer nobody listens on: 503 authorizer_unavailable", async () => {
    const down = await startTestServer({ authorizeUrl: await refusedUrl(), authorizeTimeoutMs: 2000 });
    try {
      const refused = await new Api(down.url).call("POST", "/v1/uploads", { json: declaration });
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({
        code: "authorizer_unavailable",
        message: "the application's authorizer could not be reached",
      });
      expect(
        (await down.server.repository.listUploads({ limit: 10 }, AbortSignal.timeout(5000))).length,
      ).toBe(0);
      expect(await leftovers(down.dataDir)).toEqual([]);
    } finally {
      await down.close();
      await removeDir(down.dataDir);
    }
  });

  it("a caller naming an owner without the API key: 403 forbidden, the authorizer is not asked", async () => {
    const refused = await api.call("POST", "/v1/uploads", {
      json: { ...declaration, owner: "someone-else" },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect(authorizer.calls).toHaveLength(0);
  });
});

describe("tus creation goes through the authorizer too", () => {
  it("allowed: protocol tus, the other Upload-Metadata pairs as metadata, owner recorded", async () => {
    authorizer.answer = () => ({ status: 201, body: { owner: "user-7", metadata: { source: "uppy" } } });
    const created = await tusCreate({
      "upload-metadata": `filename ${b64("clip.mp4")},filetype ${b64("video/mp4")},project ${b64("p-1")},flag`,
      cookie: "session=tus",
    });
    expect(created.status).toBe(201);
    expect(authorizer.calls[0]?.body).toEqual({
      filename: "clip.mp4",
      size: 100 * KiB,
      contentType: "video/mp4",
      metadata: { project: "p-1", flag: "" },
      protocol: "tus",
      headers: { cookie: "session=tus" },
    });
    const [id, token] = (created.headers.get("location") ?? "").split("/").at(-1)?.split(".") ?? [];
    const status = await api.call("GET", `/v1/uploads/${id}`, { token: token as string });
    expect(status.body).toMatchObject({
      owner: "user-7",
      metadata: { project: "p-1", flag: "", source: "uppy" },
    });
    expect(
      (
        await fetch(`${t.url}${created.headers.get("location")}`, {
          method: "DELETE",
          headers: { "tus-resumable": "1.0.0" },
        })
      ).status,
    ).toBe(204);
  });

  it("concatenation: each partial upload and the final one are asked about, marked as such", async () => {
    authorizer.answer = () => ({ status: 200, body: { owner: "user-9" } });
    const partial = await tusCreate({ "upload-concat": "partial" });
    expect(partial.status).toBe(201);
    expect(authorizer.calls.at(-1)?.body).toMatchObject({
      protocol: "tus",
      concat: "partial",
      size: 100 * KiB,
    });
    const patched = await fetch(`${t.url}${partial.headers.get("location")}`, {
      method: "PATCH",
      headers: {
        "tus-resumable": "1.0.0",
        "upload-offset": "0",
        "content-type": "application/offset+octet-stream",
      },
      body: new Uint8Array(100 * KiB),
    });
    expect(patched.status).toBe(204);
    authorizer.answer = () => ({ status: 403, body: { message: "no joining today" } });
    const final = await fetch(`${t.url}/files/`, {
      method: "POST",
      headers: {
        "tus-resumable": "1.0.0",
        "upload-concat": `final;${partial.headers.get("location")}`,
        "upload-metadata": `filename ${b64("joined.mp4")},filetype ${b64("video/mp4")}`,
      },
    });
    expect(final.status).toBe(403);
    expect(authorizer.calls).toHaveLength(2);
    expect(authorizer.calls[1]?.body).toMatchObject({
      protocol: "tus",
      concat: "final",
      size: 100 * KiB,
      filename: "joined.mp4",
    });
    expect(
      (
        await fetch(`${t.url}${partial.headers.get("location")}`, {
          method: "DELETE",
          headers: { "tus-resumable": "1.0.0" },
        })
      ).status,
    ).toBe(204);
  });

  it("refused: the application's status and message, nothing created", async () => {
    await expect.poll(async () => leftovers(t.dataDir)).toEqual([]);
    const before = await uploadCount();
    authorizer.answer = () => ({ status: 401, body: { message: "log in first" } });
    const refused = await tusCreate({ "upload-metadata": `filename ${b64("clip.mp4")}` });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({
      error: { code: "rejected_by_app", message: "log in first" },
    });
    await expectNothingCreated(before);
  });
});

describe("metadata rules", () => {
  it("refuses non-objects, non-string values, bad keys and more than 4 KiB with 400 invalid_metadata", async () => {
    await expect.poll(async () => leftovers(t.dataDir)).toEqual([]);
    const before = await uploadCount();
    const bad: unknown[] = [
      "a string",
      ["an", "array"],
      null,
      { n: 1 },
      { b: true },
      { nested: { a: "b" } },
      { ["k".repeat(65)]: "long key" },
      { "": "empty key" },
      { big: "x".repeat(4 * KiB) },
    ];
    for (const metadata of bad) {
      const refused = await api.call("POST", "/v1/uploads", { json: { ...declaration, metadata } });
      expect(refused.status, JSON.stringify(metadata).slice(0, 60)).toBe(400);
      expect(refused.body.error.code).toBe("invalid_metadata");
      expect(refused.body.error.message).toMatch(/metadata/);
    }
    expect(authorizer.calls).toHaveLength(0);
    const tusRefused = await tusCreate({ "upload-metadata": `${"k".repeat(65)} ${b64("v")}` });
    expect(tusRefused.status).toBe(400);
    expect(((await tusRefused.json()) as any).error.code).toBe("invalid_metadata");
    await expectNothingCreated(before);
  });

  it("takes metadata right at the limits", async () => {
    const metadata = { ["k".repeat(64)]: "x".repeat(4 * KiB - 64 - 7) };
    expect(Buffer.byteLength(JSON.stringify(metadata))).toBe(4 * KiB);
    const created = await api.call("POST", "/v1/uploads", { json: { ...declaration, metadata } });
    expect(created.status).toBe(201);
    expect((await api.status(created.body)).body.metadata).toEqual(metadata);
    await api.cancel(created.body);
  });
});

describe("OpenAPI", () => {
  it("documents metadata, owner, the new errors and routes", async () => {
    const doc = (await api.call("GET", "/openapi.json")).body;
    const create = doc.paths["/v1/uploads"].post;
    const body = create.requestBody.content["application/json"].schema;
    expect(Object.keys(body.properties)).toEqual(expect.arrayContaining(["metadata", "owner"]));
    expect(Object.keys(create.responses)).toEqual(expect.arrayContaining(["503", "4XX"]));
    expect(doc.paths["/v1/uploads"].get.parameters.map((p: { name: string }) => p.name)).toContain("owner");
    expect(doc.paths["/v1/videos/{id}/playback-url"].post).toBeDefined();
    expect(JSON.stringify(create)).toMatch(/rejected_by_app/);
  });
});
