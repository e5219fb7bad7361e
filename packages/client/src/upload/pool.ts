/**
 * Runs `worker` over `items` with at most `concurrency` at a time. On the first failure the
 * others are aborted and waited for, so when this settles no work (and no request) is left running.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  /** `lane` (0..concurrency-1) lets a worker keep per-lane state such as a reusable buffer. */
  worker: (item: T, signal: AbortSignal, lane: number) => Promise<void>,
): Promise<void> {
  const failed = new AbortController();
  const poolSignal = AbortSignal.any([signal, failed.signal]);
  let next = 0;
  let firstError: { error: unknown } | undefined;
  const lane = async (_: unknown, laneIndex: number) => {
    while (next < items.length && !poolSignal.aborted) {
      const item = items[next++] as T;
      try {
        await worker(item, poolSignal, laneIndex);
      } catch (error) {
        firstError ??= { error };
        failed.abort(error);
        return;
      }
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane);
  await Promise.all(lanes);
  if (firstError !== undefined) throw firstError.error;
  signal.throwIfAborted();
}
