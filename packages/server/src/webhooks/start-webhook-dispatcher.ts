import { hostname } from "node:os";
import type { UploadRepository } from "@cleancut/core";
import type { Logger } from "pino";
import type { ServerConfig } from "../config.js";
import { newId } from "../ids.js";
import { openWebhookOutbox } from "./open-outbox.js";
import type { WebhookOutbox } from "./outbox.js";
import { WebhookDispatcher, type WebhookObserver } from "./webhook-dispatcher.js";
import type { WebhookSettings } from "./webhook-settings.js";

export interface WebhookDeps {
  config: Pick<ServerConfig, "databaseUrl" | "dataDir">;
  repository: UploadRepository;
  log: Logger;
  /** Counters, and the backlog gauge read through `watchWebhookBacklog`. */
  metrics?: WebhookObserver & {
    watchWebhookBacklog(oldestPendingCreatedAt: (signal: AbortSignal) => Promise<number | undefined>): void;
  };
  /** How often to look for other instances' events and due retries (default 500 ms). */
  pollIntervalMs?: number;
}

export interface RunningWebhooks {
  readonly outbox: WebhookOutbox;
  readonly dispatcher: WebhookDispatcher;
  /** Stops claiming, lets attempts finish (or releases their claims), closes the outbox. */
  close(): Promise<void>;
}

/**
 * Starts delivering the outbox to the configured URLs: woken at once by events this process
 * commits, and every poll interval for events other instances wrote and retries that fell due.
 * The upload path only writes outbox rows; nothing here runs inside it.
 */
export function startWebhookDispatcher(settings: WebhookSettings, deps: WebhookDeps): RunningWebhooks {
  const outbox = openWebhookOutbox(deps.config.databaseUrl, deps.config.dataDir);
  const dispatcher = new WebhookDispatcher({
    outbox,
    endpoints: settings.endpoints,
    key: settings.key,
    timeoutMs: settings.timeoutMs,
    retryWindowMs: settings.retryWindowMs,
    backoff: settings.backoff,
    pollIntervalMs: deps.pollIntervalMs ?? 500,
    concurrency: 64,
    instanceId: `${hostname()}/${process.pid}/${newId()}`,
    closeGraceMs: 1_000,
    log: deps.log.child({ component: "webhooks" }),
    ...(deps.metrics === undefined ? {} : { observer: deps.metrics }),
  });
  deps.metrics?.watchWebhookBacklog((signal) => outbox.oldestPendingCreatedAt(signal));
  const unsubscribe = deps.repository.onEventCommitted(() => dispatcher.wake());
  dispatcher.start();
  let closing: Promise<void> | undefined;
  return {
    outbox,
    dispatcher,
    close() {
      closing ??= (async () => {
        unsubscribe();
        await dispatcher.close();
        await outbox.close();
      })();
      return closing;
    },
  };
}
