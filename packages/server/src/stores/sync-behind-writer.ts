import type { FileHandle } from "node:fs/promises";

/**
 * Appends to a file and asks the kernel to write it back while the writing goes on, one
 * `datasync` at a time every `syncEvery` bytes. A file that must be durable then costs one
 * pass over the disk that overlaps the copy, instead of a copy into the page cache followed
 * by one long fsync of everything at the end (measured: 1 GiB joined in ~4.5 s → see the
 * upload benchmark).
 */
export class SyncBehindWriter {
  #sinceSync = 0;
  #pendingSync: Promise<void> | undefined;

  constructor(
    private readonly handle: FileHandle,
    private readonly syncEvery: number,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      const { bytesWritten } = await this.handle.write(chunk, offset, chunk.byteLength - offset);
      offset += bytesWritten;
    }
    this.#sinceSync += chunk.byteLength;
    if (this.#sinceSync >= this.syncEvery) {
      this.#sinceSync = 0;
      // At most one write-back in flight, so dirty pages stay bounded by about 2 × syncEvery.
      await this.#pendingSync;
      this.#pendingSync = this.handle.datasync();
    }
  }

  /** Resolves once every byte written is on disk, with the file's metadata. */
  async finish(): Promise<void> {
    await this.#pendingSync;
    await this.handle.sync();
  }

  /** Waits for a write-back still running, so the handle can be closed after a failure. */
  async settle(): Promise<void> {
    await this.#pendingSync?.catch(() => undefined);
  }
}
