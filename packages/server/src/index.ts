export { type BackoffPolicy, backoffDelay } from "./cancel/backoff.js";
export { CancelService } from "./cancel/cancel-service.js";
export { InflightRegistry } from "./cancel/inflight-registry.js";
export { sniffContainer } from "./complete/sniff-container.js";
export { defaultConfig, type ServerConfig } from "./config.js";
export { SqliteUploadRepository } from "./repository/sqlite-repository.js";
export { type CleancutServer, type CleancutServerOptions, startServer } from "./server.js";
export { DiskStore } from "./stores/disk-store.js";
export { type Fault, FaultInjectingStore } from "./stores/fault-injecting-store.js";
