import { createReadStream } from "node:fs";
import { copyFile, link, open, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ByteRange } from "@cleancut/core";

/**
 * A finished video on disk is a folder `<videoId>.video/` of hard links to the upload's
 * segment files, in order, plus a manifest: joining is a link per segment instead of a second
 * write of every byte (and of every byte's fsync), and the video takes no extra disk space.
 * The segment files are never written again after their rename into place, so the links see
 * exactly the bytes that were checked. Videos joined before this layout are single files with
 * the same name; both are read here.
 */
export interface VideoManifest {
  size: number;
  sha256: string;
  parts: VideoPart[];
}

export interface VideoPart {
  /** File name inside the video folder. */
  name: string;
  size: number;
}

/** What the folder's manifest is called. */
const manifestName = "manifest.json";
/**
 * One absolute part path per line: what ffprobe's `concatf:` protocol reads as one file. Only
 * read while `complete` checks the video it just joined, so a data folder moved later does not
 * matter.
 */
const probeListName = "parts.txt";

/** `modifiedAt`: the file's or the folder's mtime (epoch ms). */
export type DiskVideo =
  | { layout: "file"; path: string; size: number; modifiedAt: number }
  /** `manifest` is undefined for a folder whose deletion was cut off: what is left still counts. */
  | { layout: "parts"; dir: string; size: number; modifiedAt: number; manifest: VideoManifest | undefined };

/** Part `position` of a video, named so a listing sorts in order. */
export function videoPartName(position: number): string {
  return `${String(position).padStart(6, "0")}.part`;
}

/** The video at `path` (a file or a folder), or undefined when there is none. */
export async function openDiskVideo(path: string): Promise<DiskVideo | undefined> {
  const info = await stat(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  });
  if (info === undefined) return undefined;
  const modifiedAt = info.mtimeMs;
  if (!info.isDirectory()) return { layout: "file", path, size: info.size, modifiedAt };
  const manifest = await readFile(join(path, manifestName), "utf8").then(
    (text) => JSON.parse(text) as VideoManifest,
    () => undefined,
  );
  if (manifest !== undefined)
    return { layout: "parts", dir: path, size: manifest.size, modifiedAt, manifest };
  let size = 0;
  for (const name of await readdir(path).catch(() => [] as string[])) {
    size += (await stat(join(path, name)).catch(() => undefined))?.size ?? 0;
  }
  return { layout: "parts", dir: path, size, modifiedAt, manifest: undefined };
}

/** The location a prober reads the whole video at `path` from: the file, or the folder's part list. */
export function probeLocationOf(path: string, isFolder: boolean): string {
  return isFolder ? `concatf:${join(path, probeListName)}` : path;
}

/**
 * Puts a hard link to each source file into `dir` (a new, empty folder that becomes the
 * video), in order; a data folder on a file system without hard links gets synced copies.
 */
export async function linkVideoParts(
  dir: string,
  sources: readonly { path: string; size: number }[],
  signal: AbortSignal,
): Promise<VideoPart[]> {
  const parts: VideoPart[] = [];
  for (const [position, source] of sources.entries()) {
    signal.throwIfAborted();
    const name = videoPartName(position);
    await link(source.path, join(dir, name)).catch(async (error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "EXDEV" && code !== "EPERM" && code !== "ENOTSUP") throw error;
      await copyFile(source.path, join(dir, name));
      await syncFile(join(dir, name));
    });
    parts.push({ name, size: source.size });
  }
  return parts;
}

/**
 * Writes the manifest and the prober's part list into `dir` and syncs the folder's entries:
 * after this, renaming `dir` to `finalDir` publishes a complete, durable video.
 */
export async function writeVideoManifest(
  dir: string,
  finalDir: string,
  parts: readonly VideoPart[],
  sha256: string,
): Promise<void> {
  const manifest: VideoManifest = {
    size: parts.reduce((sum, part) => sum + part.size, 0),
    sha256,
    parts: [...parts],
  };
  await writeSynced(join(dir, probeListName), parts.map((part) => `${join(finalDir, part.name)}\n`).join(""));
  await writeSynced(join(dir, manifestName), JSON.stringify(manifest));
  await syncFile(dir);
}

/** The bytes of the video, or of `range` of it, part after part: one file open at a time. */
export async function* readVideoParts(
  dir: string,
  manifest: VideoManifest,
  range: ByteRange | undefined,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const first = range?.start ?? 0;
  const last = range?.end ?? manifest.size - 1;
  let partStart = 0;
  for (const part of manifest.parts) {
    const partEnd = partStart + part.size - 1;
    if (partEnd >= first && partStart <= last && part.size > 0) {
      signal.throwIfAborted();
      yield* createReadStream(join(dir, part.name), {
        start: Math.max(first, partStart) - partStart,
        end: Math.min(last, partEnd) - partStart,
        signal,
      });
    }
    partStart += part.size;
    if (partStart > last) break;
  }
}

async function writeSynced(path: string, text: string): Promise<void> {
  const file = await open(path, "wx");
  try {
    await file.writeFile(text, "utf8");
    await file.sync();
  } finally {
    await file.close();
  }
}

/**
 * fsync of a file, or of a folder's entries (open read-only, as a directory must be). Through
 * a new descriptor: Linux syncs the file's pages whichever descriptor wrote them.
 */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
