import { randomBytes } from "node:crypto";
import pg from "pg";

/** The server the PostgreSQL tests create their databases on (trust auth in CI). */
export const adminUrl =
  process.env.CLEANCUT_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  name: string;
  /** Connection string for the new database. */
  url: string;
  /** Drops the database, ending any session still on it. */
  drop(): Promise<void>;
}

async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    // Fail, never skip: a run without PostgreSQL has not tested the PostgreSQL repository.
    throw new Error(
      `PostgreSQL is not reachable at ${adminUrl} (${(error as Error).message}). ` +
        "The PostgreSQL tests need a running server: start one, or point CLEANCUT_TEST_POSTGRES_URL at one.",
      { cause: error },
    );
  }
  return client;
}

/** A new, empty database `cleancut_test_<random>` of its own. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `cleancut_test_${randomBytes(6).toString("hex")}`;
  const admin = await adminClient();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = await adminClient();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
