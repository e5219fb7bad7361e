import { NotAVideoError, type VideoProbe, type VideoStore } from "@cleancut/core";
import { runFfprobe } from "./ffprobe.js";
import { sniffContainer } from "./sniff-container.js";

const headBytes = 4096;

/**
 * Decides whether an assembled file is a video: magic bytes first, then (when ffprobe is
 * installed) a real probe that must find a video stream. Throws NotAVideoError otherwise.
 * The first bytes come from `head` when the store already read them back while assembling.
 */
export async function inspectVideo(
  videos: VideoStore,
  video: { key: string; size: number; head?: Uint8Array },
  ffprobeCommand: string | undefined,
  signal: AbortSignal,
): Promise<VideoProbe> {
  const { key, size } = video;
  const wanted = Math.min(size, headBytes);
  const container = sniffContainer(
    video.head !== undefined && video.head.length >= wanted
      ? Buffer.from(video.head.subarray(0, wanted))
      : await readHead(videos, key, wanted, signal),
  );
  if (container === undefined) {
    throw new NotAVideoError(
      "the uploaded file is not a video: its first bytes match no known video container",
    );
  }
  if (ffprobeCommand === undefined) return { container };
  const result = await runFfprobe(ffprobeCommand, videos.probeLocation(key), signal);
  if (result === undefined || !result.hasVideoStream) {
    throw new NotAVideoError(`the uploaded file looks like ${container} but holds no readable video stream`);
  }
  return { container, ...result.probe };
}

async function readHead(
  videos: VideoStore,
  key: string,
  length: number,
  signal: AbortSignal,
): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await videos.readVideo(key, { start: 0, end: length - 1 }, signal)) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
