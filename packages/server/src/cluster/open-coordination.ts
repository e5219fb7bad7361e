import type { Logger } from "pino";
import { inProcessCoordination } from "./in-process.js";
import type { Coordination } from "./ports.js";
import { PostgresCoordination } from "./postgres-coordination.js";
import type { ClusterSettings } from "./settings.js";

/**
 * PostgreSQL LISTEN/NOTIFY, a shared write ledger and an advisory sweep lock when the server's
 * metadata lives in PostgreSQL (other instances may share it); in-process otherwise.
 */
export async function openCoordination(
  databaseUrl: string | undefined,
  settings: ClusterSettings,
  log: Logger,
  onReconnect: () => void,
): Promise<Coordination> {
  if (databaseUrl === undefined || !/^postgres(?:ql)?:\/\//i.test(databaseUrl))
    return inProcessCoordination();
  return PostgresCoordination.connect(databaseUrl, {
    settings,
    onReconnect,
    onError: (error, what) => log.warn({ err: error }, `cluster coordination: ${what} failed`),
  });
}
