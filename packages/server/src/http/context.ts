import type { SegmentStore, UploadRepository, VideoStore } from "@cleancut/core";
import type { CancelService } from "../cancel/cancel-service.js";
import type { InflightRegistry } from "../cancel/inflight-registry.js";
import type { CompleteService } from "../complete/complete-service.js";
import type { ServerConfig } from "../config.js";
import type { ServerMetrics } from "../observability/metrics.js";
import type { CheckResult } from "../observability/readiness.js";

/** What /metrics and /readyz read. */
export interface OperationsContext {
  metrics: ServerMetrics;
  readiness(): Promise<{ ready: boolean; checks: Record<"database" | "store", CheckResult> }>;
}

/** What the routes need, handed to each route module. */
export interface AppContext {
  config: ServerConfig;
  repository: UploadRepository;
  store: SegmentStore;
  videos: VideoStore;
  inflight: InflightRegistry;
  cancels: CancelService;
  completes: CompleteService;
  operations: OperationsContext;
}
