export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/** Exponential backoff with full jitter on the upper half: attempt 1 waits ~base, doubling up to max. */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Runs `work` up to `tries` times, backing off between failures that `retryable` accepts
 * (all, by default); rethrows the last error.
 */
export async function withRetries<T>(
  tries: number,
  policy: BackoffPolicy,
  work: () => Promise<T>,
  signal?: AbortSignal,
  retryable: (error: unknown) => boolean = () => true,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= tries; attempt++) {
    try {
      return await work();
    } catch (error) {
      lastError = error;
      if (signal?.aborted || attempt === tries || !retryable(error)) break;
      await sleep(backoffDelay(policy, attempt), signal);
    }
  }
  throw lastError;
}
