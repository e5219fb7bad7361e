export { type BackoffPolicy, backoffDelay } from "./cancel/backoff.js";
export { CancelService } from "./cancel/cancel-service.js";
export { InflightRegistry } from "./cancel/inflight-registry.js";
export {
  InProcessCancelSignals,
  InProcessSweepLock,
  InProcessWriteLedger,
  inProcessCoordination,
} from "./cluster/in-process.js";
export { openCoordination } from "./cluster/open-coordination.js";
export type {
  CancelSignals,
  Coordination,
  DrainResult,
  SweepLock,
  Unsubscribe,
  WriteLedger,
  WriteTicket,
} from "./cluster/ports.js";
export { PostgresCoordination, type PostgresCoordinationOptions } from "./cluster/postgres-coordination.js";
export { type ClusterSettings, defaultClusterSettings } from "./cluster/settings.js";
export { sniffContainer } from "./complete/sniff-container.js";
export { defaultConfig, type S3Settings, type ServerConfig } from "./config.js";
export { type CleancutPluginOptions, cleancut } from "./embed/fastify-plugin.js";
export { type CleancutHandler, type CleancutHandlerOptions, cleancutHandler } from "./embed/node-handler.js";
export type { UploadEventListener, UploadEventListeners } from "./embed/upload-event-listeners.js";
export { FaultGate } from "./faults/fault-gate.js";
export { faultInjectingRepository, type RepositoryMethod } from "./faults/fault-injecting-repository.js";
export {
  defaultOrphanGraceMs,
  type Orphan,
  type OrphanReport,
  reconcileOrphans,
  summarizeOrphanReport,
} from "./gc/orphan-reconciler.js";
export { openRepository } from "./repository/open-repository.js";
export { PostgresUploadRepository } from "./repository/postgres-repository.js";
export { SqliteUploadRepository } from "./repository/sqlite-repository.js";
export {
  type Cleancut,
  type CleancutOptions,
  type CleancutServer,
  type CleancutServerOptions,
  createCleancut,
  startServer,
} from "./server.js";
export { DiskStore } from "./stores/disk-store.js";
export { type Fault, FaultInjectingStore } from "./stores/fault-injecting-store.js";
export { openStore } from "./stores/open-store.js";
export { S3Store, type S3StoreOptions } from "./stores/s3-store.js";
export { openWebhookOutbox } from "./webhooks/open-outbox.js";
export type { DeliveryListing, DeliveryState, WebhookOutbox } from "./webhooks/outbox.js";
export { parseWebhookSecret } from "./webhooks/webhook-secret.js";
export { type WebhookSettings, webhookSettingsOf } from "./webhooks/webhook-settings.js";
