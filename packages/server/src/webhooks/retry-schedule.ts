import { type BackoffPolicy, backoffDelay } from "../cancel/backoff.js";

/** Between failed attempts: 5 s, doubling (jittered) up to 4 hours. */
export const defaultWebhookBackoff: BackoffPolicy = { baseMs: 5_000, maxMs: 4 * 60 * 60 * 1000 };

/**
 * After a failed attempt (the `attempts`th): when to try again, or `dead` when that would fall
 * after the retry window, which counts from the delivery's fan-out (or replay).
 */
export function afterFailure(
  attempts: number,
  scheduledAt: number,
  now: number,
  windowMs: number,
  backoff: BackoffPolicy,
  random: () => number = Math.random,
): { state: "pending" | "dead"; nextAttemptAt: number } {
  const nextAttemptAt = now + backoffDelay(backoff, attempts, random);
  return { state: nextAttemptAt > scheduledAt + windowMs ? "dead" : "pending", nextAttemptAt };
}
