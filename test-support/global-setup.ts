import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/**
 * Makes the test videos once per run with the real ffmpeg. No ffmpeg, no run: the suite
 * fails here rather than skipping the tests that need a real video.
 */
export default function setup(): void {
  const dir = join(import.meta.dirname, "..", ".tmp", "fixtures");
  mkdirSync(dir, { recursive: true });
  const video = join(dir, "testsrc-3s.mp4");
  makeVideo(video, ["-f", "lavfi", "-i", "testsrc=duration=3:size=640x360:rate=30", "-pix_fmt", "yuv420p"]);
  // Several MiB, so a page upload has many segments to show (and to cancel).
  const larger = join(dir, "testsrc-8s-4mbit.mp4");
  makeVideo(larger, [
    "-f",
    "lavfi",
    "-i",
    "testsrc=duration=8:size=640x360:rate=30",
    // Noise keeps the encoder from squeezing the test pattern to a few hundred KiB.
    "-vf",
    "noise=alls=30:allf=t",
    "-pix_fmt",
    "yuv420p",
    "-b:v",
    "4M",
  ]);
  process.env.CLEANCUT_TEST_VIDEO_LARGER = larger;
  process.env.CLEANCUT_TEST_VIDEO = video;
}

function makeVideo(path: string, args: string[]): void {
  if (existsSync(path)) return;
  try {
    execFileSync("ffmpeg", ["-v", "error", "-y", ...args, path], { stdio: "inherit" });
  } catch (error) {
    throw new Error("ffmpeg is needed to make the test videos: apt-get install ffmpeg (.ci/run does this)", {
      cause: error,
    });
  }
}
