import { randomFillSync } from "node:crypto";
import { open } from "node:fs/promises";

const MiB = 1024 * 1024;

/** A file that passes the container check (an MP4 `ftyp` box) followed by random bytes. */
export async function makeVideoLikeFile(path, size) {
  const handle = await open(path, "w");
  const block = randomFillSync(Buffer.alloc(64 * MiB));
  Buffer.from([0, 0, 0, 0x18, ...Buffer.from("ftypisom"), 0, 0, 2, 0, ...Buffer.from("isomiso2")]).copy(
    block,
  );
  for (let written = 0; written < size; written += block.length) {
    await handle.write(block, 0, Math.min(block.length, size - written));
    block[24] = (block[24] + 1) & 0xff;
  }
  await handle.close();
}
