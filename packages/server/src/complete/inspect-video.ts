import { NotAVideoError, type VideoProbe, type VideoStore } from "@cleancut/core";
import { runFfprobe } from "./ffprobe.js";
import { sniffContainer } from "./sniff-container.js";

const headBytes = 4096;

/**
 * Decides whether an assembled file is a video: magic bytes first, then (when ffprobe is
 * installed) a real probe that must find a video stream. Throws NotAVideoError otherwise.
 */
export async function inspectVideo(
  videos: VideoStore,
  key: string,
  size: number,
  ffprobeCommand: string | undefined,
  signal: AbortSignal,
): Promise<VideoProbe> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of await videos.readVideo(
    key,
    { start: 0, end: Math.min(size, headBytes) - 1 },
    signal,
  )) {
    chunks.push(chunk);
  }
  const container = sniffContainer(Buffer.concat(chunks));
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
