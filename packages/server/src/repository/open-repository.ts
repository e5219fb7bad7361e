import { join } from "node:path";
import { InvalidRequestError, type UploadRepository } from "@cleancut/core";
import { PostgresUploadRepository } from "./postgres-repository.js";
import { SqliteUploadRepository } from "./sqlite-repository.js";

/**
 * The metadata repository a server runs on: PostgreSQL for a `postgres://` or `postgresql://`
 * URL, else the embedded SQLite file `<dataDir>/cleancut.sqlite`. Any other non-empty URL is
 * refused rather than silently falling back to SQLite.
 */
export async function openRepository(
  databaseUrl: string | undefined,
  dataDir: string,
): Promise<UploadRepository> {
  if (databaseUrl === undefined || databaseUrl === "") {
    return new SqliteUploadRepository(join(dataDir, "cleancut.sqlite"));
  }
  if (/^postgres(?:ql)?:\/\//i.test(databaseUrl)) return PostgresUploadRepository.connect(databaseUrl);
  // Only the scheme: the rest of a URL may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUrl)?.[1];
  throw new InvalidRequestError(
    `unsupported database URL${scheme === undefined ? "" : ` scheme "${scheme}:"`}: expected postgres:// or postgresql://, or none for SQLite under the data folder`,
  );
}
