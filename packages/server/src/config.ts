import { GiB, MiB } from "@cleancut/core";
import type { BackoffPolicy } from "./cancel/backoff.js";
import type { PurgeOptions } from "./cancel/purge.js";
import { type ClusterSettings, defaultClusterSettings } from "./cluster/settings.js";
import { defaultWebhookBackoff } from "./webhooks/retry-schedule.js";

export interface S3Settings {
  /** Omit for AWS itself; e.g. `http://127.0.0.1:18080` for a local S3-compatible server. */
  endpoint: string | undefined;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ServerConfig {
  /** Where segments and videos live: local disk under `dataDir`, or an S3-compatible bucket. */
  storage: "disk" | "s3";
  s3: S3Settings | undefined;
  host: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  /** `postgres://…` keeps upload metadata in PostgreSQL; unset, it lives in SQLite under `dataDir`. */
  databaseUrl?: string;
  /** When set, creating and listing uploads needs `Authorization: Bearer <apiKey>`. */
  apiKey: string | undefined;
  defaultSegmentSize: number;
  maxUploadSize: number;
  uploadTtlMs: number;
  /**
   * A tus upload nobody has touched (no PATCH, no HEAD) since its creation answer expires after
   * this long, then gets the expiry's verified cancel: a client that aborted during the creation
   * request never learnt its URL, so nobody else will ever cancel it. The first touch extends
   * it to `uploadTtlMs`.
   */
  tusUnclaimedTtlMs: number;
  /** A cancelled upload answers GET (with its report) until this long after it expired and was cancelled. */
  finishedRetentionMs: number;
  /**
   * Upload events stay in the outbox this long once no webhook delivery waits for them (for
   * `cleancut webhooks ls` and replays); events written while no webhook URL is set go too.
   */
  eventRetentionMs: number;
  /** How often the reaper looks for expired uploads and due cleanups. */
  sweepIntervalMs: number;
  /**
   * How often the orphan reconciler runs from the reaper's sweep (one instance at a time, under
   * the sweep lock); the first run is one interval after start. 0 disables it.
   */
  gcIntervalMs: number;
  /** Stored entries (and records) that changed more recently than this are never orphans. */
  gcGraceMs: number;
  cleanupRetry: BackoffPolicy;
  purge: PurgeOptions;
  /** `ffprobe` command, `false` to skip the deep check, `"auto"` to use it when installed. */
  ffprobe: string | false;
  logLevel: string;
  /** Idle time after which a stalled segment upload is cut off. */
  requestTimeoutMs: number;
  /** Origins allowed to call the API from a browser (CORS). Empty: none (the page is same-origin). */
  corsOrigins: string[];
  /** Creates allowed per client address per window; `false` turns the limit off. */
  createRateLimit: { max: number; windowMs: number } | false;
  /** Uploads one client address may have open (uploading or completing) at once; 0 turns the cap off. */
  maxOpenUploadsPerClient: number;
  /** The page's built files (default: those of `@cleancut/web`); `false` serves no page. */
  webRoot?: string | false;
  /** Several instances on one PostgreSQL: heartbeat, stale-instance age, how long a cancel waits for other instances' writes. */
  cluster: ClusterSettings;
  /** Where every upload event is POSTed, signed (Standard Webhooks); empty: no webhooks. */
  webhookUrls: string[];
  /** `whsec_<base64>`: the webhooks' signing secret; needed with `webhookUrls`. */
  webhookSecret?: string;
  /** One webhook attempt's limit: no 2xx by then is a failed attempt. */
  webhookTimeoutMs: number;
  /** How long failed deliveries are retried (from the event's fan-out or replay) before they are dead. */
  webhookRetryWindowMs: number;
  /** The wait between a delivery's failed attempts (exponential, jittered). */
  webhookBackoff: BackoffPolicy;
  /**
   * The application's authorizer: before any upload is created (v1 or tus) without the API key,
   * the server POSTs the declaration here and the application allows it (maybe setting `owner`,
   * `metadata`, a lower `maxSize`) or refuses it. Unset: no authorizer.
   */
  authorizeUrl?: string;
  /** How long the authorizer may take before the create is refused with 503 `authorizer_unavailable`. */
  authorizeTimeoutMs: number;
  /** The caller's request headers forwarded to the authorizer (lower-case names); no other header is. */
  authorizeHeaders: string[];
  /** Reading a video needs the API key or a signed playback URL; needs `apiKey`. */
  privateVideos: boolean;
  /** Secret the playback-URL key derives from; unset, it derives from `apiKey`. */
  playbackSecret?: string;
}

export const defaultConfig: ServerConfig = {
  storage: "disk",
  s3: undefined,
  host: "127.0.0.1",
  port: 8787,
  dataDir: "./cleancut-data",
  databaseUrl: undefined,
  apiKey: undefined,
  defaultSegmentSize: 8 * MiB,
  maxUploadSize: 64 * GiB,
  uploadTtlMs: 24 * 60 * 60 * 1000,
  tusUnclaimedTtlMs: 60 * 1000,
  finishedRetentionMs: 60 * 60 * 1000,
  eventRetentionMs: 7 * 24 * 60 * 60 * 1000,
  sweepIntervalMs: 1000,
  gcIntervalMs: 60 * 60 * 1000,
  gcGraceMs: 10 * 60 * 1000,
  cleanupRetry: { baseMs: 500, maxMs: 5 * 60 * 1000 },
  purge: { tries: 3, backoff: { baseMs: 20, maxMs: 200 }, concurrency: 8 },
  ffprobe: "auto",
  logLevel: "info",
  requestTimeoutMs: 60_000,
  corsOrigins: [],
  createRateLimit: { max: 600, windowMs: 60_000 },
  maxOpenUploadsPerClient: 1000,
  cluster: defaultClusterSettings,
  webhookUrls: [],
  webhookTimeoutMs: 10_000,
  webhookRetryWindowMs: 3 * 24 * 60 * 60 * 1000,
  webhookBackoff: defaultWebhookBackoff,
  authorizeTimeoutMs: 5_000,
  authorizeHeaders: ["authorization", "cookie"],
  privateVideos: false,
};
