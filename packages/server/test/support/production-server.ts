import type { CleancutServerOptions } from "../../src/index.js";
import { removeDir, startTestServer, type TestServer } from "./harness.js";
import { createTestDatabase, type TestDatabase } from "./postgres.js";
import { createTestBucket, type TestBucket } from "./s3-bucket.js";

export interface ProductionTestServer {
  server: TestServer;
  bucket: TestBucket;
  database: TestDatabase;
  /** Stops the server, drops the database, and drops the bucket after checking it is empty. */
  close(): Promise<void>;
}

/**
 * The production setup for one test file: a fresh bucket on the real Swift s3api, its own
 * PostgreSQL database, and a real server on both (behind the store's fault layer).
 */
export async function startProductionTestServer(
  bucketPrefix: string,
  options: CleancutServerOptions = {},
): Promise<ProductionTestServer> {
  const bucket = await createTestBucket(bucketPrefix);
  const database = await createTestDatabase();
  const server = await startTestServer({
    ...options,
    databaseUrl: database.url,
    storage: "s3",
    s3: bucket.settings,
  });
  return {
    server,
    bucket,
    database,
    async close() {
      await server.close();
      await removeDir(server.dataDir);
      await database.drop();
      await bucket.drop();
    },
  };
}
