import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";

/**
 * The page's own policy: everything from this origin, media from blob: (the local preview),
 * no inline script. The page talks only to this server. It may be framed only by pages of its
 * own origin (an app that mounts cleancut) and of `frameAncestors` (the origins already trusted
 * to call the API from a browser): an app embeds it in an iframe to send an upload it created.
 */
const contentSecurityPolicy = (frameAncestors: string[]) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    `frame-ancestors ${["'self'", ...frameAncestors].join(" ")}`,
  ].join("; ");

/** Where the prebuilt page of `@cleancut/web` is, if it is installed and built. */
export function defaultWebRoot(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve("@cleancut/web/package.json");
    const root = join(dirname(manifest), "dist");
    return existsSync(join(root, "index.html")) ? root : undefined;
  } catch {
    return undefined;
  }
}

/** Serves the page at `/` (its files are prebuilt: serving needs no build step). */
export async function registerWebPage(
  app: FastifyInstance,
  webRoot: string | undefined,
  frameAncestors: string[] = [],
): Promise<void> {
  if (webRoot === undefined) {
    app.get("/", { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type("text/plain; charset=utf-8")
        .send(
          "cleancut is running. The web page is not built here: run `npm run build`. The API is at /v1/uploads, described at /openapi.json.\n",
        ),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: webRoot,
    prefix: "/",
    wildcard: false,
    // No `reply.sendFile` decorator: a host app using @fastify/static itself would clash with it.
    decorateReply: false,
    index: ["index.html"],
    // Our own cache headers below, not the plugin's max-age=0 on everything.
    cacheControl: false,
    setHeaders(response, path) {
      response.setHeader("x-content-type-options", "nosniff");
      if (path.endsWith(".html")) {
        response.setHeader("content-security-policy", contentSecurityPolicy(frameAncestors));
        response.setHeader("cache-control", "no-cache");
      } else {
        // Vite names assets by content hash.
        response.setHeader("cache-control", "public, max-age=31536000, immutable");
      }
    },
  });
}
