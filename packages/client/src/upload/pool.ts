/**
 * Runs `worker` over `items` with at most `concurrency` at a time. On the first failure the
 * others are aborted and waited for, so when this settles no work (and no request) is left running.
 */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  signal: AbortSignal,
  worker: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const failed = new AbortController();
  const poolSignal = AbortSignal.any([signal, failed.signal]);
  let next = 0;
  let firstError: { error: unknown } | undefined;
  const lane = async () => {
    while (next < items.length && !poolSignal.aborted) {
      const item = items[next++] as T;
      try {
        await worker(item, poolSignal);
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
