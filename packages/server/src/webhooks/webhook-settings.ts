import { InvalidWebhookConfigError } from "@cleancut/core";
import type { BackoffPolicy } from "../cancel/backoff.js";
import type { ServerConfig } from "../config.js";
import { parseWebhookSecret } from "./webhook-secret.js";

/** What the dispatcher needs from the configuration, checked. */
export interface WebhookSettings {
  endpoints: string[];
  key: Buffer;
  timeoutMs: number;
  retryWindowMs: number;
  backoff: BackoffPolicy;
}

/**
 * Checks the webhook part of the configuration before anything is opened, so a mistake stops
 * the server at start-up with one line (code `invalid_webhook_config`). Undefined: no webhooks.
 */
export function webhookSettingsOf(
  config: Pick<
    ServerConfig,
    "webhookUrls" | "webhookSecret" | "webhookTimeoutMs" | "webhookRetryWindowMs" | "webhookBackoff"
  >,
): WebhookSettings | undefined {
  for (const url of config.webhookUrls) checkUrl(url);
  if (config.webhookUrls.length === 0) {
    if (config.webhookSecret !== undefined) parseWebhookSecret(config.webhookSecret);
    return undefined;
  }
  if (config.webhookSecret === undefined || config.webhookSecret === "") {
    throw new InvalidWebhookConfigError(
      "webhook URLs are set without a secret: set --webhook-secret (or CLEANCUT_WEBHOOK_SECRET) to whsec_<base64>",
    );
  }
  if (!(config.webhookTimeoutMs > 0))
    throw new InvalidWebhookConfigError("the webhook timeout must be positive");
  if (!(config.webhookRetryWindowMs >= 0)) {
    throw new InvalidWebhookConfigError("the webhook retry window must not be negative");
  }
  return {
    // One delivery per distinct URL: the same URL twice would be sent every event twice.
    endpoints: [...new Set(config.webhookUrls)],
    key: parseWebhookSecret(config.webhookSecret),
    timeoutMs: config.webhookTimeoutMs,
    retryWindowMs: config.webhookRetryWindowMs,
    backoff: config.webhookBackoff,
  };
}

function checkUrl(text: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidWebhookConfigError(`webhook URL ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidWebhookConfigError(`webhook URL ${JSON.stringify(text)} must be http:// or https://`);
  }
}
