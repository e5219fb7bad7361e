import { setMaxListeners } from "node:events";

/**
 * A signal that never aborts, for work that must finish whatever the request that started it
 * does (a purge after a complete, a rollback). One instance is shared by every concurrent call,
 * each of which adds an abort listener and removes it when done: no listener cap, or 50 uploads
 * completing at once trip Node's leak warning without any leak.
 */
export const neverAborts: AbortSignal = new AbortController().signal;
setMaxListeners(0, neverAborts);
