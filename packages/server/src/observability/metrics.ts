import type { CancelReport, UploadRepository } from "@cleancut/core";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * The server's Prometheus metrics. Each server instance owns its own `Registry` (never
 * prom-client's global one): tests start many servers in one process, and a shared registry
 * would mix their counts or throw on the second registration of a name.
 */
export class ServerMetrics {
  readonly registry = new Registry();

  /** Segment bytes this instance streamed into the store (direct-to-S3 parts never pass through here). */
  readonly segmentBytesReceived = new Counter({
    name: "cleancut_segment_bytes_received_total",
    help: "Bytes of segments stored through this server instance.",
    registers: [this.registry],
  });

  /**
   * One per cancel, when its first cleanup attempt ends: what the client was told (200
   * verified, 202 unverified). A later verification of an unverified cancel shows in the histogram.
   */
  readonly cancels = new Counter<"outcome" | "reason">({
    name: "cleancut_cancels_total",
    help: "Cancels by the outcome of their first cleanup attempt (verified or unverified) and reason.",
    labelNames: ["outcome", "reason"],
    registers: [this.registry],
  });

  readonly cleanupRetries = new Counter({
    name: "cleancut_cleanup_retries_total",
    help: "Cleanup attempts that were not verified and got another attempt scheduled.",
    registers: [this.registry],
  });

  readonly leftoverCheckFailures = new Counter({
    name: "cleancut_leftover_check_failures_total",
    help: "Verification listings after a purge that still found something of the upload.",
    registers: [this.registry],
  });

  /** 5 ms … 30 s: a disk cancel verifies in milliseconds, an S3 one in seconds, a retried one later. */
  readonly cancelToVerified = new Histogram({
    name: "cleancut_cancel_to_verified_seconds",
    help: "Time from the cancel request to the verification listing that found nothing.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly webhooksDelivered = new Counter({
    name: "cleancut_webhook_deliveries_total",
    help: "Webhook POSTs this instance made that the receiver answered with a 2xx.",
    registers: [this.registry],
  });

  readonly webhookFailedAttempts = new Counter({
    name: "cleancut_webhook_failed_attempts_total",
    help: "Webhook attempts that failed (non-2xx, timeout, connection refused), retried or dead-lettered.",
    registers: [this.registry],
  });

  readonly webhooksDeadLettered = new Counter({
    name: "cleancut_webhook_dead_letters_total",
    help: "Webhook deliveries given up after their retry window (see cleancut webhooks ls --failed).",
    registers: [this.registry],
  });

  constructor(repository: UploadRepository) {
    const registry = this.registry;
    // Read from the database at scrape time: with several instances on one database, every
    // instance reports the same truth, and no counter drifts after a restart.
    new Gauge<"state">({
      name: "cleancut_uploads",
      help: "Uploads by state, as the database holds them at scrape time.",
      labelNames: ["state"],
      registers: [registry],
      async collect() {
        try {
          const counts = await repository.countUploadsByState(AbortSignal.timeout(5_000));
          for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
        } catch {
          // No stale numbers while the database is unreachable (/readyz says why).
          this.reset();
        }
      },
    });
    collectDefaultMetrics({ register: registry });
  }

  /** Called by the cancel service with the report each cleanup attempt ended with. */
  cleanupAttemptEnded(report: CancelReport): void {
    if (report.attempts === 1) {
      this.cancels.inc({ outcome: report.verified ? "verified" : "unverified", reason: report.reason });
    }
    if (report.verified) this.cancelToVerified.observe(report.durationMs / 1000);
    else this.cleanupRetries.inc();
  }

  webhookDelivered(): void {
    this.webhooksDelivered.inc();
  }

  webhookAttemptFailed(): void {
    this.webhookFailedAttempts.inc();
  }

  webhookDeadLettered(): void {
    this.webhooksDeadLettered.inc();
  }

  /**
   * The age of the oldest event not yet delivered (read from the outbox at scrape time, so
   * every instance reports the same backlog); registered by the webhook dispatcher when it runs.
   */
  watchWebhookBacklog(oldestPendingCreatedAt: (signal: AbortSignal) => Promise<number | undefined>): void {
    new Gauge({
      name: "cleancut_webhook_oldest_pending_age_seconds",
      help: "Age of the oldest webhook event not yet delivered to every endpoint (0: none pending).",
      registers: [this.registry],
      async collect() {
        try {
          const oldest = await oldestPendingCreatedAt(AbortSignal.timeout(5_000));
          this.set(oldest === undefined ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
        } catch {
          this.reset();
        }
      },
    });
  }

  /** A verification listing (or video check) after a purge still found part of the upload. */
  leftoversFound(): void {
    this.leftoverCheckFailures.inc();
  }

  /** The Prometheus text exposition format (version 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
