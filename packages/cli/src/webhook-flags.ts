import { UsageError } from "./usage-error.js";

/** `cleancut serve`'s webhook options, in its help. */
export const webhookHelp = `  --webhook-url URL     POST every upload event here, signed (Standard Webhooks); repeatable
                        (env CLEANCUT_WEBHOOK_URLS, comma-separated)
  --webhook-secret S    signing secret, whsec_<base64> (env CLEANCUT_WEBHOOK_SECRET); needed with --webhook-url
  --webhook-timeout SECONDS  one attempt's limit (default 10)
  --webhook-retry-window SECONDS  how long failed deliveries are retried before they are dead (default 259200: 3 days)`;

export const webhookOptions = {
  "webhook-url": { type: "string", multiple: true },
  "webhook-secret": { type: "string" },
  "webhook-timeout": { type: "string" },
  "webhook-retry-window": { type: "string" },
} as const;

export interface WebhookFlagValues {
  "webhook-url"?: string[] | undefined;
  "webhook-secret"?: string | undefined;
  "webhook-timeout"?: string | undefined;
  "webhook-retry-window"?: string | undefined;
}

/**
 * The webhook part of the server's configuration, flags first, then the environment. URLs and
 * the secret are checked by the server at start-up (`invalid_webhook_config`), so a library
 * user gets the same checks; only the numbers are read here.
 */
export function webhookSettingsFrom(values: WebhookFlagValues): {
  webhookUrls: string[];
  webhookSecret?: string;
  webhookTimeoutMs?: number;
  webhookRetryWindowMs?: number;
} {
  const urls = values["webhook-url"] ?? splitList(process.env.CLEANCUT_WEBHOOK_URLS);
  const secret = values["webhook-secret"] ?? process.env.CLEANCUT_WEBHOOK_SECRET;
  const timeout = seconds(values["webhook-timeout"], "--webhook-timeout");
  const window = seconds(values["webhook-retry-window"], "--webhook-retry-window");
  return {
    webhookUrls: urls,
    ...(secret === undefined || secret === "" ? {} : { webhookSecret: secret }),
    ...(timeout === undefined ? {} : { webhookTimeoutMs: timeout }),
    ...(window === undefined ? {} : { webhookRetryWindowMs: window }),
  };
}

/** Seconds as a positive decimal (0.5 is allowed: tests and local setups want short limits). */
function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0)
    throw new UsageError(`${flag} must be a positive number of seconds, got ${JSON.stringify(text)}`);
  return Math.round(Number(text) * 1000);
}

function splitList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}
