/** How one POST ended: a 2xx is delivered; anything else is a failed attempt, with why. */
export type PostOutcome =
  | { ok: true; status: number }
  | { ok: false; status: number | undefined; error: string };

/** The most of a failing receiver's answer kept in `last_error`: enough to see what it said. */
const maxErrorBodyChars = 200;

/**
 * One attempt: POST `body` with `headers` to `url`, its answer read (or its time out) within
 * `timeoutMs`. Never throws: a refused connection, a timeout or a non-2xx answer is an outcome.
 * Redirects are not followed (a 3xx is a failed attempt): the signature was made for this URL.
 * `signal` aborts the attempt (the dispatcher closing); the outcome then says `aborted`.
 */
export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<PostOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const both = AbortSignal.any([timeout, signal]);
  try {
    const response = await fetch(url, { method: "POST", headers, body, redirect: "manual", signal: both });
    if (response.status >= 200 && response.status < 300) {
      // Drain what the receiver said, so the connection can be reused.
      await response.arrayBuffer();
      return { ok: true, status: response.status };
    }
    const text = await response.text();
    const said = text.trim().slice(0, maxErrorBodyChars);
    return {
      ok: false,
      status: response.status,
      error: `receiver answered ${response.status}${said === "" ? "" : `: ${said}`}`,
    };
  } catch (error) {
    if (timeout.aborted) return { ok: false, status: undefined, error: `no answer within ${timeoutMs} ms` };
    if (signal.aborted) return { ok: false, status: undefined, error: "aborted" };
    return { ok: false, status: undefined, error: describeNetworkError(error) };
  }
}

/** fetch says "fetch failed"; the reason ("connect ECONNREFUSED 127.0.0.1:9", a DNS failure…) is its cause. */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { message?: string } }).cause;
  if (typeof cause?.message === "string" && cause.message !== "") return cause.message;
  return error instanceof Error ? error.message : String(error);
}
