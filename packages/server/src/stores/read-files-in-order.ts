import { type FileHandle, open } from "node:fs/promises";

const chunkBytes = 1024 * 1024;

/**
 * Feeds the files' bytes, in order, to `update` (a hash), 1 MiB at a time with the next read
 * already in flight while `update` runs: reading from the page cache overlaps the hashing.
 * Two buffers take turns, so `update` must be done with a chunk when it returns.
 */
export async function readFilesInOrder(
  paths: readonly string[],
  update: (chunk: Uint8Array) => void,
  signal: AbortSignal,
): Promise<void> {
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  const readInto = (input: FileHandle, turn: number) => {
    const buffer = buffers[turn % 2] as Buffer;
    return input.read(buffer, 0, buffer.length, null).then(({ bytesRead }) => buffer.subarray(0, bytesRead));
  };
  for (const path of paths) {
    const input = await open(path, "r");
    let turn = 0;
    let pending = readInto(input, turn);
    try {
      for (;;) {
        signal.throwIfAborted();
        const chunk = await pending;
        if (chunk.length === 0) break;
        turn += 1;
        pending = readInto(input, turn);
        update(chunk);
      }
    } finally {
      await pending.catch(() => undefined);
      await input.close();
    }
  }
}
