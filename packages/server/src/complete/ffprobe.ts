import { spawn } from "node:child_process";
import type { VideoProbe } from "@cleancut/core";

export interface ProbeResult {
  hasVideoStream: boolean;
  probe: Omit<VideoProbe, "container">;
  formatName?: string;
}

interface FfprobeJson {
  format?: { format_name?: string; duration?: string };
  streams?: Array<{ codec_type?: string; codec_name?: string; width?: number; height?: number }>;
}

/** Runs `ffprobe` on a path or URL; resolves undefined when ffprobe cannot read it as media at all. */
export function runFfprobe(
  command: string,
  location: string,
  signal: AbortSignal,
  timeoutMs = 30_000,
): Promise<ProbeResult | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      command,
      ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", location],
      { signal, timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.resume();
    // Aborted (a cancel during the check): the reason (upload_cancelled) is the error, not
    // child_process's generic AbortError, which would reach the client as a 500.
    child.on("error", (error) => reject(signal.aborted ? signal.reason : error));
    child.on("close", (code) => {
      if (signal.aborted) return reject(signal.reason);
      if (code !== 0) return resolve(undefined);
      try {
        resolve(toProbeResult(JSON.parse(stdout) as FfprobeJson));
      } catch {
        resolve(undefined);
      }
    });
  });
}

function toProbeResult(json: FfprobeJson): ProbeResult {
  const streams = json.streams ?? [];
  const video = streams.find((stream) => stream.codec_type === "video");
  const audio = streams.find((stream) => stream.codec_type === "audio");
  const duration = Number(json.format?.duration);
  const probe: Omit<VideoProbe, "container"> = {};
  if (Number.isFinite(duration)) probe.durationSeconds = duration;
  if (video?.width !== undefined) probe.width = video.width;
  if (video?.height !== undefined) probe.height = video.height;
  if (video?.codec_name !== undefined) probe.videoCodec = video.codec_name;
  if (audio?.codec_name !== undefined) probe.audioCodec = audio.codec_name;
  const result: ProbeResult = { hasVideoStream: video !== undefined, probe };
  if (json.format?.format_name !== undefined) result.formatName = json.format.format_name;
  return result;
}

/** True when `command -version` runs: checked once at start-up. */
export function ffprobeAvailable(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(command, ["-version"], { stdio: "ignore" });
    child.on("error", () => resolve(false));
    child.on("close", (code) => resolve(code === 0));
  });
}
