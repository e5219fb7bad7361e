export * from "./cancel-report.js";
export * from "./error-status.js";
export * from "./errors.js";
export * from "./events.js";
export * from "./segment-layout.js";
export * from "./segment-store.js";
export * from "./upload.js";
export * from "./upload-repository.js";
