export interface ClusterSettings {
  /** How often an instance proves it is alive (`server_instances.heartbeat_at`). */
  heartbeatMs: number;
  /**
   * An instance whose heartbeat is older than this is dead: its `inflight_writes` rows no longer
   * hold up a cancel. A live instance that could not beat for half of it aborts its own writes.
   */
  staleAfterMs: number;
  /** How long a cancel waits for other instances' writes to go before it reports 202 and retries later. */
  drainTimeoutMs: number;
}

export const defaultClusterSettings: ClusterSettings = {
  heartbeatMs: 2_000,
  staleAfterMs: 15_000,
  drainTimeoutMs: 10_000,
};
