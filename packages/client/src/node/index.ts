// Node entry: everything from the browser entry, plus file sources, a file journal and undici.
import { createHash } from "node:crypto";
import {
  type ResumeCancelsOptions,
  type ResumedCancel,
  resumeCancels as resumeCancelsWith,
} from "../cancel/resume-cancels.js";
import { createUploadWith } from "../create-upload.js";
import type { CancelJournal } from "../journal/cancel-journal.js";
import type { UploadSource } from "../source/upload-source.js";
import type { UploadOptions } from "../upload/options.js";
import type { Upload } from "../upload/upload.js";
import { UndiciTransport } from "./undici-transport.js";

export * from "../index.js";
export { FileJournal } from "./file-journal.js";
export { NodeFileSource } from "./node-file-source.js";
export { UndiciTransport } from "./undici-transport.js";

/** node:crypto's SHA-256: in Node 20 WebCrypto's digest is several times slower. */
export async function nodeSha256(bytes: Uint8Array): Promise<Uint8Array> {
  return createHash("sha256").update(bytes).digest();
}

/** As the browser `createUpload`, but with undici and node:crypto by default. */
export function createUpload(source: UploadSource, options: UploadOptions): Upload {
  return createUploadWith(source, { sha256: nodeSha256, ...options }, () => new UndiciTransport());
}

/** As the browser `resumeCancels`, but the default transport is undici. */
export function resumeCancels(
  journal: CancelJournal,
  options: ResumeCancelsOptions = {},
): Promise<ResumedCancel[]> {
  return resumeCancelsWith(journal, { ...options, transport: options.transport ?? new UndiciTransport() });
}
