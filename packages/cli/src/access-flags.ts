import type { ServerConfig } from "@cleancut/server";
import { UsageError } from "./usage-error.js";

/** `serve`'s flags for who may upload (the application's authorizer) and who may watch (private videos). */
export const accessOptions = {
  "authorize-url": { type: "string" },
  "authorize-timeout": { type: "string" },
  "authorize-header": { type: "string", multiple: true },
  "private-videos": { type: "boolean" },
  "playback-secret": { type: "string" },
} as const;

export const accessHelp = `  --authorize-url URL   ask the application before any upload is created (env CLEANCUT_AUTHORIZE_URL)
  --authorize-timeout SECONDS  how long the authorizer may take (default 5, env CLEANCUT_AUTHORIZE_TIMEOUT)
  --authorize-header NAME  a caller's header forwarded to the authorizer (repeatable; replaces the
                        default authorization and cookie; env CLEANCUT_AUTHORIZE_HEADERS, comma-separated)
  --private-videos      reading a video needs the API key or a signed playback URL (needs --api-key;
                        env CLEANCUT_PRIVATE_VIDEOS=1)
  --playback-secret S   key playback URLs are signed with (default: derived from the API key;
                        env CLEANCUT_PLAYBACK_SECRET)`;

type AccessSettings = Pick<
  ServerConfig,
  "authorizeUrl" | "authorizeTimeoutMs" | "authorizeHeaders" | "privateVideos" | "playbackSecret"
>;

/** Flags first, then the environment; mistakes are one line (exit 2) before the server starts. */
export function accessSettingsFrom(
  values: {
    "authorize-url"?: string | undefined;
    "authorize-timeout"?: string | undefined;
    "authorize-header"?: string[] | undefined;
    "private-videos"?: boolean | undefined;
    "playback-secret"?: string | undefined;
  },
  apiKey: string | undefined,
): Partial<AccessSettings> {
  const settings: Partial<AccessSettings> = {};
  const url = values["authorize-url"] ?? fromEnv("CLEANCUT_AUTHORIZE_URL");
  if (url !== undefined) {
    if (!/^https?:\/\/[^\s]+$/i.test(url) || !URL.canParse(url)) {
      throw new UsageError(`--authorize-url must be an http(s) URL, got ${JSON.stringify(url)}`);
    }
    settings.authorizeUrl = url;
  }
  const timeout = values["authorize-timeout"] ?? fromEnv("CLEANCUT_AUTHORIZE_TIMEOUT");
  if (timeout !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(timeout) || Number(timeout) <= 0) {
      throw new UsageError(
        `--authorize-timeout must be a positive number of seconds, got ${JSON.stringify(timeout)}`,
      );
    }
    settings.authorizeTimeoutMs = Math.round(Number(timeout) * 1000);
  }
  const headers =
    values["authorize-header"] ??
    fromEnv("CLEANCUT_AUTHORIZE_HEADERS")
      ?.split(",")
      .map((name) => name.trim())
      .filter((name) => name !== "");
  if (headers !== undefined) {
    for (const name of headers) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        throw new UsageError(`--authorize-header must be a header name, got ${JSON.stringify(name)}`);
      }
    }
    settings.authorizeHeaders = headers.map((name) => name.toLowerCase());
  }
  const privateVideos =
    values["private-videos"] ?? /^(1|true|yes)$/i.test(fromEnv("CLEANCUT_PRIVATE_VIDEOS") ?? "");
  if (privateVideos && (apiKey === undefined || apiKey === "")) {
    throw new UsageError(
      "--private-videos needs --api-key (or CLEANCUT_API_KEY): it reads videos and mints playback URLs",
    );
  }
  settings.privateVideos = privateVideos;
  const secret = values["playback-secret"] ?? fromEnv("CLEANCUT_PLAYBACK_SECRET");
  if (secret !== undefined) {
    if (secret.length < 16) throw new UsageError("--playback-secret must be at least 16 characters");
    settings.playbackSecret = secret;
  }
  return settings;
}

/** An empty variable (`FOO=` in a compose file) means unset. */
function fromEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === "" ? undefined : value;
}
