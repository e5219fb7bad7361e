import { AbortedError, httpStatusByCode, isCleancutError, isRetryableStatus } from "@cleancut/core";

export interface RetryPolicy {
  /** Retries after the first try; 0 means one try only. */
  retries: number;
  baseMs: number;
  maxMs: number;
}

export const defaultRetryPolicy: RetryPolicy = { retries: 5, baseMs: 250, maxMs: 8000 };

/**
 * Worth another try: the network failed, or the server said 5xx/408/429. Any other 4xx means
 * the request itself is wrong and sending it again would only get the same answer.
 */
export function isRetryable(error: unknown): boolean {
  if (!isCleancutError(error)) return false;
  if (error.code === "network_error") return true;
  return isRetryableStatus(httpStatusByCode[error.code]);
}

/** Exponential backoff with jitter on the upper half, so many clients do not retry in lockstep. */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Waits `ms`, or rejects with `AbortedError` as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new AbortedError("wait aborted", { cause: signal.reason });
    if (signal.aborted) {
      reject(aborted());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Runs `work` until it succeeds, fails for good, the retries run out, or `signal` aborts. */
export async function withRetry<T>(
  policy: RetryPolicy,
  signal: AbortSignal,
  work: (attempt: number) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (signal.aborted || attempt >= policy.retries || !isRetryable(error)) throw error;
      await sleep(backoffDelay(policy, attempt), signal);
    }
  }
}
