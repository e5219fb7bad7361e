import type { CreateUploadResponse, PresignSegmentResponse } from "@cleancut/core";
import { expect } from "vitest";
import type { CleancutServerOptions } from "../../src/index.js";
import { type Api, type ApiResponse, asBody, sha256Hex } from "./api.js";
import { expectNothingOnDisk } from "./expect-gone.js";
import { leftovers, type TestServer } from "./harness.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { createTestBucket, type TestBucket } from "./s3-bucket.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * One way to run cleancut: a store, a metadata repository and an upload mode. The cancel
 * scenarios run on each, so the promise is checked the same way on every adapter.
 */
export interface StorageSetup {
  name: string;
  segmentSize: number;
  /** Segment bytes pass through the server, so transfers in flight can be seen and cut off there. */
  proxied: boolean;
  /** The store call a cleanup deletes with: one per segment on disk, one per upload on S3. */
  deleteCall: "deleteSegment" | "discardUpload";
  /** Once per test file. */
  prepare(): Promise<void>;
  /** Before each test: the options for `startTestServer`. */
  setUp(): Promise<CleancutServerOptions>;
  tearDown(): Promise<void>;
  /** Once per test file; fails if the storage still holds anything. */
  finish(): Promise<void>;
  createExtra: Record<string, unknown>;
  /** Sends segment `index` the way this mode does (a PUT through the server, or presign + PUT to S3 + confirm). */
  send(api: Api, upload: CreateUploadResponse, index: number, bytes: Uint8Array): Promise<ApiResponse>;
  /** Listed from the storage itself: nothing of the upload. */
  expectNothingStored(t: TestServer, upload: CreateUploadResponse): Promise<void>;
}

function withDatabase() {
  let database: TestDatabase | undefined;
  return {
    async setUp(): Promise<CleancutServerOptions> {
      database = await createTestDatabase();
      return { databaseUrl: database.url };
    },
    async tearDown() {
      await database?.drop();
      database = undefined;
    },
  };
}

const proxiedSend = (api: Api, upload: CreateUploadResponse, index: number, bytes: Uint8Array) =>
  api.putSegment(upload, index, bytes);

/** Presign, PUT straight to S3 (the URL is the only credential), confirm; the first refusal is the answer. */
export async function directSend(
  api: Api,
  upload: CreateUploadResponse,
  index: number,
  bytes: Uint8Array,
): Promise<ApiResponse> {
  const signed = await api.call<PresignSegmentResponse>(
    "POST",
    `/v1/uploads/${upload.id}/segments/${index}/presign`,
    { token: upload.token },
  );
  if (signed.status !== 200) return signed;
  const { "content-length": _length, ...headers } = signed.body.headers;
  const put = await fetch(signed.body.url, { method: "PUT", headers, body: asBody(bytes) });
  await put.arrayBuffer();
  expect(put.status).toBe(200);
  return api.call("POST", `/v1/uploads/${upload.id}/segments/${index}/confirm`, {
    token: upload.token,
    json: { sha256: sha256Hex(bytes), size: bytes.length },
  });
}

function diskSetup(name: string, database?: ReturnType<typeof withDatabase>): StorageSetup {
  return {
    name,
    segmentSize: 256 * KiB,
    proxied: true,
    deleteCall: "deleteSegment",
    prepare: async () => {},
    setUp: async () => (database === undefined ? {} : database.setUp()),
    tearDown: async () => database?.tearDown(),
    finish: async () => {},
    createExtra: {},
    send: proxiedSend,
    expectNothingStored: expectNothingOnDisk,
  };
}

function s3Setup(name: string, mode: "proxy" | "direct"): StorageSetup {
  const database = withDatabase();
  let bucket: TestBucket | undefined;
  return {
    name,
    // S3 takes no part under 5 MiB but the last.
    segmentSize: 5 * MiB,
    proxied: mode === "proxy",
    deleteCall: "discardUpload",
    async prepare() {
      bucket = await createTestBucket(`cancel-${mode}`);
    },
    async setUp() {
      if (bucket === undefined) throw new Error("prepare() first");
      return { ...(await database.setUp()), storage: "s3", s3: bucket.settings };
    },
    tearDown: database.tearDown,
    async finish() {
      await bucket?.drop();
    },
    createExtra: mode === "direct" ? { mode: "direct" } : {},
    send: mode === "direct" ? directSend : proxiedSend,
    async expectNothingStored(t, upload) {
      await bucket?.expectNothingFor(upload.id);
      // The server's own data folder holds no segment bytes on S3 either.
      expect(await leftovers(t.dataDir, upload.id)).toEqual([]);
    },
  };
}

/** Every supported combination: the defaults, PostgreSQL, and S3 (proxied and direct) with PostgreSQL. */
export function storageSetups(): StorageSetup[] {
  return [
    diskSetup("disk + SQLite"),
    diskSetup("disk + PostgreSQL", withDatabase()),
    s3Setup("S3 proxied + PostgreSQL", "proxy"),
    s3Setup("S3 direct + PostgreSQL", "direct"),
  ];
}
