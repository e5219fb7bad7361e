import { secondsToMs } from "./parse-values.js";
import type { Setting, SettingsSource } from "./settings-table.js";

/** `cleancut serve`'s webhook options. */
export const webhookSettings: readonly Setting[] = [
  {
    flag: "webhook-url",
    arg: "URL",
    kind: "list",
    env: ["CLEANCUT_WEBHOOK_URLS"],
    help: "POST every upload event here, signed (Standard Webhooks); repeatable",
  },
  {
    flag: "webhook-secret",
    arg: "S",
    kind: "string",
    env: ["CLEANCUT_WEBHOOK_SECRET"],
    help: "signing secret, whsec_<base64>; needed with --webhook-url",
  },
  {
    flag: "webhook-timeout",
    arg: "SECONDS",
    kind: "string",
    env: ["CLEANCUT_WEBHOOK_TIMEOUT"],
    help: "one attempt's limit (default 10)",
  },
  {
    flag: "webhook-retry-window",
    arg: "SECONDS",
    kind: "string",
    env: ["CLEANCUT_WEBHOOK_RETRY_WINDOW"],
    help: "how long failed deliveries are retried before they are dead\n(default 259200: 3 days)",
  },
];

/**
 * The webhook part of the server's configuration. URLs and the secret are checked by the server
 * at start-up (`invalid_webhook_config`), so a library user gets the same checks; only the
 * numbers are read here.
 */
export function webhookSettingsFrom(source: SettingsSource): {
  webhookUrls: string[];
  webhookSecret?: string;
  webhookTimeoutMs?: number;
  webhookRetryWindowMs?: number;
} {
  const secret = source.string("webhook-secret")?.value;
  const timeout = secondsToMs(source.string("webhook-timeout"));
  const window = secondsToMs(source.string("webhook-retry-window"));
  return {
    webhookUrls: source.list("webhook-url")?.value ?? [],
    ...(secret === undefined ? {} : { webhookSecret: secret }),
    ...(timeout === undefined ? {} : { webhookTimeoutMs: timeout }),
    ...(window === undefined ? {} : { webhookRetryWindowMs: window }),
  };
}
