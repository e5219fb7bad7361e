import { resolve } from "node:path";
import {
  InvalidRequestError,
  type SegmentStore,
  StorageUnavailableError,
  UploadCancelledError,
  type UploadRepository,
  type VideoStore,
} from "@cleancut/core";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { assertAccessConfig } from "./access-config.js";
import { CancelService } from "./cancel/cancel-service.js";
import { InflightRegistry } from "./cancel/inflight-registry.js";
import { Reaper } from "./cancel/reaper.js";
import { openCoordination } from "./cluster/open-coordination.js";
import type { Coordination } from "./cluster/ports.js";
import { CompleteService } from "./complete/complete-service.js";
import { ffprobeAvailable } from "./complete/ffprobe.js";
import { defaultConfig, type ServerConfig } from "./config.js";
import { buildApp } from "./http/app.js";
import { ServerMetrics } from "./observability/metrics.js";
import { databaseCheck, runChecks, storeCheck } from "./observability/readiness.js";
import { openRepository } from "./repository/open-repository.js";
import { openStore } from "./stores/open-store.js";
import { startWebhookDispatcher } from "./webhooks/start-webhook-dispatcher.js";
import { webhookSettingsOf } from "./webhooks/webhook-settings.js";

export interface CleancutServerOptions extends Partial<ServerConfig> {
  /** Replaces the disk store (the fault-injecting wrapper in tests, S3 later). */
  store?: SegmentStore & VideoStore;
  repository?: UploadRepository;
  /** Wraps the store the server opened (a fault layer in tests, metrics later). */
  wrapStore?: (store: SegmentStore & VideoStore) => SegmentStore & VideoStore;
  logger?: Logger;
}

export interface CleancutServer {
  readonly url: string;
  readonly config: ServerConfig;
  readonly app: FastifyInstance;
  readonly repository: UploadRepository;
  readonly store: SegmentStore & VideoStore;
  readonly inflight: InflightRegistry;
  readonly cancels: CancelService;
  readonly reaper: Reaper;
  /** Cancel signals, the shared write ledger and the sweep lock (PostgreSQL-backed with a postgres `databaseUrl`). */
  readonly coordination: Coordination;
  /** This instance's Prometheus registry (what GET /metrics serves). */
  readonly metrics: ServerMetrics;
  close(): Promise<void>;
}

/**
 * Builds the embedded default (disk + SQLite under `dataDir`, or PostgreSQL when `databaseUrl`
 * is set) unless a store or repository is given.
 */
export async function startServer(options: CleancutServerOptions = {}): Promise<CleancutServer> {
  const { store: givenStore, repository: givenRepository, logger, wrapStore, ...overrides } = options;
  const config: ServerConfig = { ...defaultConfig, ...stripUndefined(overrides) };
  config.dataDir = resolve(config.dataDir);
  assertAccessConfig(config);
  // Checked before anything opens: a bad webhook URL or secret stops the start with one line.
  const webhookSettings = webhookSettingsOf(config);
  const log = logger ?? pino({ level: config.logLevel });
  const repository = givenRepository ?? (await openRepository(config.databaseUrl, config.dataDir));
  const opened = givenStore ?? (await openStore(config, repository));
  const store = wrapStore === undefined ? opened : wrapStore(opened);
  const metrics = new ServerMetrics(repository);
  const ffprobeCommand = await resolveFfprobe(config.ffprobe);
  const cancelledError = (id: string) => new UploadCancelledError(`upload ${id} was cancelled`);
  let inflight: InflightRegistry | undefined;
  // After the LISTEN connection came back, cancels published meanwhile were missed: re-check
  // every upload this instance is writing to.
  const resync = () => {
    const registry = inflight;
    if (registry === undefined) return;
    void (async () => {
      for (const id of registry.uploadIds()) {
        const record = await repository.getUpload(id, AbortSignal.timeout(10_000)).catch(() => undefined);
        if (record !== undefined && (record.state === "cancelling" || record.state === "cancelled")) {
          await registry.abortAll(id, cancelledError(id));
        }
      }
    })();
  };
  const coordination = await openCoordination(config.databaseUrl, config.cluster, log, resync);
  inflight = new InflightRegistry({ ledger: coordination.writes });
  const registry = inflight;
  const unsubscribe = coordination.signals.subscribe((id) => {
    void registry.abortAll(id, cancelledError(id));
  });
  const unfence = coordination.onFenced(() => {
    log.error("lost the database heartbeat: aborting every write of this instance");
    void registry.abortEverything(
      new StorageUnavailableError("this server lost contact with the database; try again"),
    );
  });
  const cancels = new CancelService({
    signals: coordination.signals,
    writes: coordination.writes,
    drainTimeoutMs: config.cluster.drainTimeoutMs,
    spansInstances: coordination.spansInstances,
    repository,
    store,
    videos: store,
    inflight,
    log,
    retry: config.cleanupRetry,
    purge: config.purge,
    observer: metrics,
  });
  const completes = new CompleteService({
    repository,
    store,
    videos: store,
    inflight,
    cancels,
    log,
    purge: config.purge,
    ffprobeCommand,
  });
  const reaper = new Reaper({
    repository,
    store,
    videos: store,
    cancels,
    log,
    intervalMs: config.sweepIntervalMs,
    batchSize: 100,
    finishedRetentionMs: config.finishedRetentionMs,
    sweepLock: coordination.sweepLock,
    writes: coordination.writes,
    gc: { intervalMs: config.gcIntervalMs, graceMs: config.gcGraceMs, purge: config.purge },
  });
  // Readiness checks the store as opened (its concrete type is known here), not the wrapper.
  const checks = { database: databaseCheck(repository), store: storeCheck(opened) };
  const operations = {
    metrics,
    readiness: () =>
      runChecks(checks, 5_000, (name, error) =>
        log.warn({ err: error, check: name }, "readiness check failed"),
      ),
  };
  const app = await buildApp(
    { config, repository, store, videos: store, inflight, cancels, completes, operations },
    log,
  );
  await reaper.start();
  const webhooks =
    webhookSettings && startWebhookDispatcher(webhookSettings, { config, repository, log, metrics });
  const address = await app.listen({ host: config.host, port: config.port });
  log.info(
    { url: address, dataDir: config.dataDir, store: store.kind, ffprobe: ffprobeCommand ?? "off" },
    "cleancut listening",
  );
  let closing: Promise<void> | undefined;
  return {
    url: address,
    config,
    app,
    repository,
    store,
    inflight,
    cancels,
    reaper,
    coordination,
    metrics,
    close() {
      closing ??= (async () => {
        await webhooks?.close();
        await reaper.stop();
        cancels.close();
        await app.close();
        unsubscribe();
        unfence();
        await coordination.close();
        await repository.close();
      })();
      return closing;
    },
  };
}

async function resolveFfprobe(setting: string | false): Promise<string | undefined> {
  if (setting === false) return undefined;
  const command = setting === "auto" ? "ffprobe" : setting;
  const available = await ffprobeAvailable(command);
  if (!available && setting !== "auto")
    throw new InvalidRequestError(`ffprobe command ${command} does not run`);
  return available ? command : undefined;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
