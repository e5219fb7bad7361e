import { homedir } from "node:os";
import { join } from "node:path";

export const defaultEndpoint = "http://127.0.0.1:8787";

export function endpointFrom(flag: string | undefined): string {
  return flag ?? process.env.CLEANCUT_ENDPOINT ?? defaultEndpoint;
}

/** Where cancels that could not be confirmed wait for `cleancut resume-cancels` (or the next upload). */
export function journalPathFrom(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  if (process.env.CLEANCUT_JOURNAL !== undefined) return process.env.CLEANCUT_JOURNAL;
  const stateHome = process.env.XDG_STATE_HOME ?? join(homedir(), ".local", "state");
  return join(stateHome, "cleancut", "cancel-journal.json");
}
