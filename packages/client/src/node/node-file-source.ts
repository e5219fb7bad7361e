import { type FileHandle, open } from "node:fs/promises";
import { basename } from "node:path";
import { FileNotFoundError } from "@cleancut/core";
import { contentTypeFor } from "../source/content-type.js";
import type { UploadSource } from "../source/upload-source.js";

/** A file on disk, read by range through one FileHandle: only the segments being sent are in memory. */
export class NodeFileSource implements UploadSource {
  #closed = false;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly name: string,
    readonly size: number,
    readonly type: string,
  ) {}

  static async open(path: string, options: { name?: string; type?: string } = {}): Promise<NodeFileSource> {
    let handle: FileHandle;
    try {
      handle = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        throw new FileNotFoundError(`no file at ${path}`, { cause: error, details: { path } });
      }
      throw error;
    }
    try {
      const info = await handle.stat();
      const name = options.name ?? basename(path);
      return new NodeFileSource(handle, path, name, info.size, options.type ?? contentTypeFor(name));
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async read(start: number, end: number, signal: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
    const length = end - start;
    const buffer =
      into !== undefined && into.length >= length ? into.subarray(0, length) : new Uint8Array(length);
    let filled = 0;
    while (filled < buffer.length) {
      signal.throwIfAborted();
      const { bytesRead } = await this.handle.read(buffer, filled, buffer.length - filled, start + filled);
      if (bytesRead === 0)
        throw new RangeError(`${this.path} ended at ${start + filled}: it shrank while uploading`);
      filled += bytesRead;
    }
    return buffer;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Releases the file handle; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.handle.close();
  }
}
