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
  if (!existsSync(video)) {
    try {
      execFileSync(
        "ffmpeg",
        [
          "-v",
          "error",
          "-y",
          "-f",
          "lavfi",
          "-i",
          "testsrc=duration=3:size=640x360:rate=30",
          "-pix_fmt",
          "yuv420p",
          video,
        ],
        { stdio: "inherit" },
      );
    } catch (error) {
      throw new Error("ffmpeg is needed to make the test video: apt-get install ffmpeg (.ci/run does this)", {
        cause: error,
      });
    }
  }
  process.env.CLEANCUT_TEST_VIDEO = video;
}
