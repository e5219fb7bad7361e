import { contentTypeFor } from "./content-type.js";
import type { UploadSource } from "./upload-source.js";

/** A Blob or File (browser-safe). Slicing a Blob reads only that range. */
export class BlobSource implements UploadSource {
  readonly name: string;
  readonly size: number;
  readonly type: string;

  constructor(
    readonly blob: Blob,
    options: { name?: string; type?: string } = {},
  ) {
    const fileName = "name" in blob && typeof blob.name === "string" ? blob.name : undefined;
    this.name = options.name ?? fileName ?? "video";
    this.size = blob.size;
    this.type = options.type ?? (blob.type === "" ? contentTypeFor(this.name) : blob.type);
  }

  async read(start: number, end: number, signal: AbortSignal): Promise<Uint8Array> {
    signal.throwIfAborted();
    const bytes = new Uint8Array(await this.blob.slice(start, end).arrayBuffer());
    signal.throwIfAborted();
    return bytes;
  }

  async close(): Promise<void> {
    // A Blob holds nothing to release.
  }
}
