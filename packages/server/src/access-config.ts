import { InvalidRequestError } from "@cleancut/core";
import type { ServerConfig } from "./config.js";

const headerName = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * Refuses, at start-up, access settings that cannot work, before anything is opened: an
 * authorizer URL that is not http(s), a timeout that is not positive, a header name that is
 * not one, and private videos without an API key (nobody could read them or mint a URL).
 */
export function assertAccessConfig(config: ServerConfig): void {
  if (config.authorizeUrl !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(config.authorizeUrl);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      throw new InvalidRequestError(
        `the authorizer URL must be an http(s) URL, got ${JSON.stringify(config.authorizeUrl)}`,
      );
    }
  }
  if (!Number.isFinite(config.authorizeTimeoutMs) || config.authorizeTimeoutMs <= 0) {
    throw new InvalidRequestError("the authorizer timeout must be a positive number of milliseconds");
  }
  for (const name of config.authorizeHeaders) {
    if (!headerName.test(name)) {
      throw new InvalidRequestError(
        `authorizer headers must be lower-case header names, got ${JSON.stringify(name)}`,
      );
    }
  }
  if (config.privateVideos && config.apiKey === undefined) {
    throw new InvalidRequestError(
      "private videos need an API key (--api-key): it reads them and mints their playback URLs",
    );
  }
}
