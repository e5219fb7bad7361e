import { FetchTransport } from "./http/fetch-transport.js";
import type { HttpTransport } from "./http/transport.js";
import type { UploadSource } from "./source/upload-source.js";
import { resolveOptions, type UploadOptions } from "./upload/options.js";
import { Upload } from "./upload/upload.js";

/** Makes an Upload; nothing is sent until `start()`. */
export function createUpload(source: UploadSource, options: UploadOptions): Upload {
  return createUploadWith(source, options, () => new FetchTransport());
}

/** Lets each entry point pick its default transport (fetch in browsers, undici in Node). */
export function createUploadWith(
  source: UploadSource,
  options: UploadOptions,
  defaultTransport: () => HttpTransport,
): Upload {
  return new Upload(source, resolveOptions(options, defaultTransport));
}
