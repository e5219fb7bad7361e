import type { IncomingMessage } from "node:http";
import type { FastifyRequest } from "fastify";

/**
 * Where a host framework mounted cleancut and stripped from `req.url` before handing the
 * request over (Express's `app.use("/uploads", handler)`): set by the Node handler per request.
 */
const mountBases = new WeakMap<IncomingMessage, string>();

export function setMountBase(raw: IncomingMessage, base: string): void {
  if (base !== "") mountBases.set(raw, base);
}

/**
 * The path a client must use for `path` (e.g. `/files/<id>.<token>`), as seen from outside:
 * the host's mount path, then the plugin's prefix, then the path. URLs cleancut hands out
 * (the tus `Location`, the v1 create's `Location`) go through here so they work when mounted.
 */
export function publicPath(request: FastifyRequest, path: string): string {
  return `${mountBases.get(request.raw) ?? ""}${request.server.prefix}${path}`;
}
