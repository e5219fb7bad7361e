import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { removeDir } from "../../server/test/support/harness.js";
import { runCli } from "./run-cli.js";

/** Nothing from the caller's environment decides these runs. */
const cleanEnv = {
  CLEANCUT_API_KEY: "",
  CLEANCUT_AUTHORIZE_URL: "",
  CLEANCUT_PRIVATE_VIDEOS: "",
};

describe("cleancut serve: access flags", () => {
  it.each([
    [["--private-videos"], /--private-videos needs --api-key/],
    [["--authorize-url", "ftp://app.example/authorize"], /--authorize-url must be an http\(s\) URL/],
    [
      ["--authorize-url", "http://127.0.0.1:1/a", "--authorize-timeout", "soon"],
      /--authorize-timeout must be a positive number/,
    ],
    [
      ["--authorize-url", "http://127.0.0.1:1/a", "--authorize-header", "bad header"],
      /--authorize-header must be a header name/,
    ],
    [["--api-key", "k", "--playback-secret", "short"], /--playback-secret must be at least 16 characters/],
  ])("%j: one line, exit 2, nothing started", async (args, message) => {
    const run = runCli(["serve", "--port", "0", ...args], cleanEnv);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(message);
    expect(run.stderr().trim().split("\n")).toHaveLength(1);
    expect(run.stdout()).not.toMatch(/listening/);
  });

  it("starts with an authorizer, private videos and a playback secret", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cleancut-cli-access-"));
    try {
      const run = runCli(
        [
          "serve",
          "--port",
          "0",
          "--data-dir",
          dataDir,
          "--no-ffprobe",
          "--log-level",
          "error",
          "--authorize-url",
          "http://127.0.0.1:1/authorize",
          "--authorize-timeout",
          "0.5",
          "--authorize-header",
          "X-Session",
          "--private-videos",
          "--playback-secret",
          "a-playback-secret-of-some-length",
        ],
        { ...cleanEnv, CLEANCUT_API_KEY: "the-api-key" },
      );
      await run.waitForOutput(/listening on (http:\/\/\S+)/, 20_000);
      const url = /listening on (http:\/\/\S+)/.exec(run.stdout())?.[1] as string;
      // Nothing listens at the authorizer: the create is refused, quickly, with its code.
      const refused = await fetch(`${url}/v1/uploads`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ filename: "a.mp4", size: 10, contentType: "video/mp4" }),
      });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        "authorizer_unavailable",
      );
      run.child.kill("SIGINT");
      expect(await run.exit).toBe(0);
    } finally {
      await removeDir(dataDir);
    }
  });
});
