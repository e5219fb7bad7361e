import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Api } from "./support/api.js";
import { leftovers, removeDir, startTestServer, type TestServer } from "./support/harness.js";

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  await removeDir(t?.dataDir ?? "");
  t = undefined;
});

const create = (api: Api) =>
  api.call("POST", "/v1/uploads", { json: { filename: "a.mp4", size: 1000, contentType: "video/mp4" } });

describe("limits on one client", () => {
  it("10,000 creates from one client: the open-upload cap and the rate limit stop them with 429 and stable codes", async () => {
    t = await startTestServer({
      maxOpenUploadsPerClient: 50,
      createRateLimit: { max: 200, windowMs: 60_000 },
    });
    const api = new Api(t.url);
    const statuses = new Map<string, number>();
    let next = 0;
    // 32 at a time, like a client that does not wait.
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < 10_000) {
          next += 1;
          const response = await create(api);
          const key = `${response.status} ${response.status === 201 ? "created" : response.body.error.code}`;
          statuses.set(key, (statuses.get(key) ?? 0) + 1);
        }
      }),
    );
    // Exactly the cap got through (count and create are serialized per client), the next 150
    // were refused by the cap, and every later one by the rate limit.
    expect(Object.fromEntries(statuses)).toEqual({
      "201 created": 50,
      "429 too_many_open_uploads": 150,
      "429 rate_limited": 9_800,
    });
    const open = await t.server.repository.countUploadsByState(new AbortController().signal);
    expect(open.uploading).toBe(50);
    // Nothing of the refused creates was stored: only the 50 uploads' (empty) folders exist.
    expect(await readdir(join(t.dataDir, "uploads"))).toHaveLength(50);
    expect(await leftovers(t.dataDir)).toEqual([]);
  });

  it("a cancelled upload frees its place under the cap", async () => {
    t = await startTestServer({ maxOpenUploadsPerClient: 1, createRateLimit: false });
    const api = new Api(t.url);
    const first = await api.create(1000);
    const refused = await create(api);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe("too_many_open_uploads");
    expect((await api.cancel(first)).status).toBe(200);
    expect((await create(api)).status).toBe(201);
  });

  it("the rate limit answers with Retry-After", async () => {
    t = await startTestServer({ createRateLimit: { max: 2, windowMs: 60_000 } });
    const api = new Api(t.url);
    expect((await create(api)).status).toBe(201);
    expect((await create(api)).status).toBe(201);
    const limited = await create(api);
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("CORS", () => {
  const preflight = (url: string, origin: string) =>
    fetch(`${url}/v1/uploads`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });

  it("is closed by default: no origin is allowed", async () => {
    t = await startTestServer();
    const response = await preflight(t.url, "https://evil.example");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await fetch(`${t.url}/openapi.json`, { headers: { origin: "https://evil.example" } });
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows exactly the configured origins", async () => {
    t = await startTestServer({ corsOrigins: ["https://app.example"] });
    const allowed = await preflight(t.url, "https://app.example");
    expect(allowed.status).toBeLessThan(300);
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("content-digest");
    const other = await preflight(t.url, "https://evil.example");
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });
});
