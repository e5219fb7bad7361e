import { resolve } from "node:path";
import {
  InvalidRequestError,
  type SegmentStore,
  StorageUnavailableError,
  type Unsubscribe,
  UploadCancelledError,
  type UploadEventType,
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
import { RequestDrain } from "./embed/request-drain.js";
import {
  type UploadEventListener,
  type UploadEventListeners,
  UploadEvents,
} from "./embed/upload-event-listeners.js";
import { buildApp, registerCleancutRoutes } from "./http/app.js";
import type { AppContext } from "./http/context.js";
import { ServerMetrics } from "./observability/metrics.js";
import { databaseCheck, runChecks, storeCheck } from "./observability/readiness.js";
import { openRepository } from "./repository/open-repository.js";
import { openStore } from "./stores/open-store.js";
import { startWebhookDispatcher } from "./webhooks/start-webhook-dispatcher.js";
import { webhookSettingsOf } from "./webhooks/webhook-settings.js";

export interface CleancutOptions extends Partial<ServerConfig> {
  /** Replaces the disk store (the fault-injecting wrapper in tests, S3 later). */
  store?: SegmentStore & VideoStore;
  repository?: UploadRepository;
  /** Wraps the store the server opened (a fault layer in tests, metrics later). */
  wrapStore?: (store: SegmentStore & VideoStore) => SegmentStore & VideoStore;
  logger?: Logger;
  /**
   * How long `close()` lets requests in flight finish before aborting their writes
   * (default 10 s).
   */
  closeTimeoutMs?: number;
  /** Listeners added before anything can happen (same as calling `on` for each). */
  on?: UploadEventListeners;
}

export type CleancutServerOptions = CleancutOptions;

/** cleancut built and running (reaper started), not yet serving HTTP: see `routes`. */
export interface Cleancut {
  readonly config: ServerConfig;
  readonly log: Logger;
  readonly repository: UploadRepository;
  readonly store: SegmentStore & VideoStore;
  readonly inflight: InflightRegistry;
  readonly cancels: CancelService;
  readonly reaper: Reaper;
  /** Cancel signals, the shared write ledger and the sweep lock (PostgreSQL-backed with a postgres `databaseUrl`). */
  readonly coordination: Coordination;
  /** This instance's Prometheus registry (what GET /metrics serves). */
  readonly metrics: ServerMetrics;
  /** The `ffprobe` command in use, or undefined when the deep check is off. */
  readonly ffprobeCommand: string | undefined;
  /** False once `close()` started: new requests get a retryable 503. */
  readonly accepting: boolean;
  /** Typed in-process events (`upload.created`, `upload.cancelled`, …) after they committed. */
  on<K extends UploadEventType>(type: K, listener: UploadEventListener<K>): Unsubscribe;
  /** Registers every route (and the drain gate) into `app`, the root or an encapsulated scope. */
  routes(app: FastifyInstance): Promise<void>;
  /** A step `close()` runs after the services stopped and before the database closes (e.g. closing the HTTP server). */
  onClose(step: () => Promise<void>): void;
  /** Drains (refuse new, finish or cut off in-flight), stops the reaper, closes the database. Idempotent. */
  close(): Promise<void>;
}

/** cleancut serving HTTP on its own port (`startServer`): what `Cleancut` offers, plus the address. */
export interface CleancutServer
  extends Pick<
    Cleancut,
    | "config"
    | "on"
    | "repository"
    | "store"
    | "inflight"
    | "cancels"
    | "reaper"
    | "coordination"
    | "metrics"
    | "close"
  > {
  readonly url: string;
  readonly app: FastifyInstance;
}

/**
 * Builds cleancut without serving HTTP: the embedded default (disk + SQLite under `dataDir`, or
 * PostgreSQL when `databaseUrl` is set) unless a store or repository is given, with its reaper
 * running. `startServer`, the Fastify plugin and the Node handler all serve one of these.
 */
export async function createCleancut(options: CleancutOptions = {}): Promise<Cleancut> {
  const {
    store: givenStore,
    repository: givenRepository,
    logger,
    wrapStore,
    closeTimeoutMs = 10_000,
    on: initialListeners,
    ...overrides
  } = options;
  const config: ServerConfig = { ...defaultConfig, ...stripUndefined(overrides) };
  config.dataDir = resolve(config.dataDir);
  assertAccessConfig(config);
  // Checked before anything opens: a bad webhook URL or secret stops the start with one line.
  const webhookSettings = webhookSettingsOf(config);
  const log = logger ?? pino({ level: config.logLevel });
  const repository = givenRepository ?? (await openRepository(config.databaseUrl, config.dataDir));
  const events = new UploadEvents((error) => log.error({ err: error }, "an upload event listener failed"));
  if (initialListeners !== undefined) events.onEach(initialListeners);
  const unlistenEvents = repository.onEventCommitted((event) => events.emit(event));
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
    eventRetentionMs: config.eventRetentionMs,
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
  const context: AppContext = {
    config,
    repository,
    store,
    videos: store,
    inflight,
    cancels,
    completes,
    operations,
  };
  const drain = new RequestDrain();
  const closeSteps: Array<() => Promise<void>> = [];
  await reaper.start();
  const webhooks =
    webhookSettings && startWebhookDispatcher(webhookSettings, { config, repository, log, metrics });
  let closing: Promise<void> | undefined;
  return {
    config,
    log,
    repository,
    store,
    inflight,
    cancels,
    reaper,
    coordination,
    metrics,
    ffprobeCommand,
    get accepting() {
      return drain.accepting;
    },
    on: (type, listener) => events.on(type, listener),
    async routes(app) {
      // Counted for the drain, refused once closing; only cleancut's own requests.
      app.addHook("onRequest", async (request, reply) => {
        if (!drain.accepting) void reply.header("connection", "close");
        drain.admit(request.raw, reply.raw);
      });
      await registerCleancutRoutes(app, context);
    },
    onClose(step) {
      closeSteps.push(step);
    },
    close() {
      closing ??= (async () => {
        // What is still writing after the timeout is aborted like a cancel aborts it: the
        // store removes the cut-off segment's temp file.
        await drain.drain(closeTimeoutMs, () =>
          inflight.abortEverything(new StorageUnavailableError("this server is shutting down; try again")),
        );
        await webhooks?.close();
        await reaper.stop();
        cancels.close();
        for (const step of closeSteps) await step();
        unsubscribe();
        unfence();
        unlistenEvents();
        events.removeAll();
        await coordination.close();
        await repository.close();
      })();
      return closing;
    },
  };
}

/**
 * cleancut as its own HTTP server on `host:port` (what `cleancut serve` runs). Built by
 * `createCleancut`, so it drains on `close()` like the plugin and the Node handler.
 */
export async function startServer(options: CleancutServerOptions = {}): Promise<CleancutServer> {
  const cleancut = await createCleancut(options);
  const { config, log } = cleancut;
  let app: FastifyInstance;
  let address: string;
  try {
    app = await buildApp(config, log, (root) => cleancut.routes(root));
    cleancut.onClose(() => app.close());
    address = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await cleancut.close();
    throw error;
  }
  log.info(
    {
      url: address,
      dataDir: config.dataDir,
      store: cleancut.store.kind,
      ffprobe: cleancut.ffprobeCommand ?? "off",
    },
    "cleancut listening",
  );
  return {
    url: address,
    config,
    app,
    on: (type, listener) => cleancut.on(type, listener),
    repository: cleancut.repository,
    store: cleancut.store,
    inflight: cleancut.inflight,
    cancels: cleancut.cancels,
    reaper: cleancut.reaper,
    coordination: cleancut.coordination,
    metrics: cleancut.metrics,
    close: () => cleancut.close(),
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
