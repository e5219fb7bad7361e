import type { ServerConfig } from "@cleancut/server";
import { secondsToMs } from "./parse-values.js";
import type { Setting, SettingsSource } from "./settings-table.js";
import { UsageError } from "./usage-error.js";

/** `serve`'s flags for who may upload (the application's authorizer) and who may watch (private videos). */
export const accessSettings: readonly Setting[] = [
  {
    flag: "authorize-url",
    arg: "URL",
    kind: "string",
    env: ["CLEANCUT_AUTHORIZE_URL"],
    help: "ask the application before any upload is created",
  },
  {
    flag: "authorize-timeout",
    arg: "SECONDS",
    kind: "string",
    env: ["CLEANCUT_AUTHORIZE_TIMEOUT"],
    help: "how long the authorizer may take (default 5)",
  },
  {
    flag: "authorize-header",
    arg: "NAME",
    kind: "list",
    env: ["CLEANCUT_AUTHORIZE_HEADERS"],
    help: "a caller's header forwarded to the authorizer (repeatable; replaces the\ndefault authorization and cookie)",
  },
  {
    flag: "private-videos",
    kind: "boolean",
    env: ["CLEANCUT_PRIVATE_VIDEOS"],
    help: "reading a video needs the API key or a signed playback URL (needs --api-key)",
  },
  {
    flag: "playback-secret",
    arg: "S",
    kind: "string",
    env: ["CLEANCUT_PLAYBACK_SECRET"],
    help: "key playback URLs are signed with (default: derived from the API key)",
  },
];

type AccessSettings = Pick<
  ServerConfig,
  "authorizeUrl" | "authorizeTimeoutMs" | "authorizeHeaders" | "privateVideos" | "playbackSecret"
>;

/** Flags first, then the environment; mistakes are one line (exit 2) before the server starts. */
export function accessSettingsFrom(
  source: SettingsSource,
  apiKey: string | undefined,
): Partial<AccessSettings> {
  const settings: Partial<AccessSettings> = {};
  const url = source.string("authorize-url");
  if (url !== undefined) {
    if (!/^https?:\/\/[^\s]+$/i.test(url.value) || !URL.canParse(url.value)) {
      throw new UsageError(`${url.from} must be an http(s) URL, got ${JSON.stringify(url.value)}`);
    }
    settings.authorizeUrl = url.value;
  }
  const timeout = secondsToMs(source.string("authorize-timeout"));
  if (timeout !== undefined) settings.authorizeTimeoutMs = timeout;
  const headers = source.list("authorize-header");
  if (headers !== undefined) {
    for (const name of headers.value) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        throw new UsageError(`${headers.from} must be a header name, got ${JSON.stringify(name)}`);
      }
    }
    settings.authorizeHeaders = headers.value.map((name) => name.toLowerCase());
  }
  const privateVideos = source.boolean("private-videos")?.value ?? false;
  if (privateVideos && (apiKey === undefined || apiKey === "")) {
    throw new UsageError(
      "--private-videos needs --api-key (or CLEANCUT_API_KEY): it reads videos and mints playback URLs",
    );
  }
  settings.privateVideos = privateVideos;
  const secret = source.string("playback-secret");
  if (secret !== undefined) {
    if (secret.value.length < 16) throw new UsageError(`${secret.from} must be at least 16 characters`);
    settings.playbackSecret = secret.value;
  }
  return settings;
}
