import type { IncomingMessage, ServerResponse } from "node:http";
import { InternalError, type Unsubscribe, type UploadEventType } from "@cleancut/core";
import { buildApp } from "../http/app.js";
import { installErrorHandling } from "../http/errors.js";
import { setMountBase } from "../http/public-path.js";
import { type Cleancut, type CleancutOptions, createCleancut } from "../server.js";
import type { UploadEventListener } from "./upload-event-listeners.js";

export interface CleancutHandlerOptions extends CleancutOptions {
  /**
   * The path cleancut's routes live under in the URLs this handler receives. Leave it empty
   * when the host strips its mount path (Express's `app.use("/uploads", handler)`); set it
   * (e.g. `/uploads`) when the handler gets full paths (`http.createServer(handler)`, Koa).
   */
  prefix?: string;
  /** A cleancut built with `createCleancut` to serve instead of building one. */
  cleancut?: Cleancut;
}

/** A Node request handler for Express, Koa and node:http, serving cleancut. */
export interface CleancutHandler {
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): void;
  readonly cleancut: Cleancut;
  on<K extends UploadEventType>(type: K, listener: UploadEventListener<K>): Unsubscribe;
  /** Drains cleancut's requests in flight, stops its services, closes its database. Idempotent. */
  close(): Promise<void>;
}

/**
 * cleancut for any Node HTTP framework: a Fastify instance that is ready but never listens;
 * each request the host hands over goes through `fastify.routing(req, res)`, Fastify's
 * documented entry into its router (the same function its own server calls). Bodies are not
 * touched before that, so segment uploads stream straight to storage: the host must not run a
 * body parser (express.json(), express.raw(), koa-body) on the mount before this handler.
 *
 * Everything under the mount is cleancut's (its own JSON 404 included): `next` is never called.
 */
export async function cleancutHandler(options: CleancutHandlerOptions = {}): Promise<CleancutHandler> {
  const { prefix = "", cleancut: given, ...rest } = options;
  const instance = given ?? (await createCleancut(rest));
  const cleanPrefix = prefix.replace(/\/+$/, "");
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp(instance.config, instance.log, async (root) => {
      if (cleanPrefix === "") await instance.routes(root);
      else {
        // The whole server is cleancut's: outside the prefix too, errors and 404s are its JSON.
        installErrorHandling(root);
        await root.register(async (scope) => instance.routes(scope), { prefix: cleanPrefix });
      }
    });
    instance.onClose(() => app.close());
    await app.ready();
  } catch (error) {
    if (given === undefined) await instance.close();
    throw error;
  }
  const handler = ((request: IncomingMessage, response: ServerResponse) => {
    if (bodyConsumed(request)) {
      refuseConsumedBody(instance, request, response);
      return;
    }
    setMountBase(request, mountBaseOf(request));
    app.routing(request, response);
  }) as CleancutHandler;
  Object.defineProperties(handler, {
    cleancut: { value: instance },
    on: { value: instance.on.bind(instance) },
    close: { value: () => instance.close() },
  });
  return handler;
}

/**
 * The part of the request's path the host stripped before handing it over: Express keeps it in
 * `req.baseUrl` (and the whole path in `req.originalUrl`). URLs cleancut hands out (the tus
 * `Location`) need it in front.
 */
function mountBaseOf(request: IncomingMessage): string {
  const { baseUrl, originalUrl } = request as IncomingMessage & { baseUrl?: unknown; originalUrl?: unknown };
  if (typeof baseUrl === "string") return baseUrl.replace(/\/+$/, "");
  if (typeof originalUrl !== "string" || request.url === undefined) return "";
  const original = originalUrl.split("?")[0] ?? "";
  const current = request.url.split("?")[0] ?? "";
  if (current === "/" && !original.endsWith("/")) return original;
  return original.endsWith(current) ? original.slice(0, original.length - current.length) : "";
}

/** A body parser of the host already read the body (body-parser marks `_body`; or the stream ended). */
function bodyConsumed(request: IncomingMessage): boolean {
  if ((request as IncomingMessage & { _body?: unknown })._body === true) return true;
  const declaresBody =
    request.headers["transfer-encoding"] !== undefined ||
    (request.headers["content-length"] !== undefined && request.headers["content-length"] !== "0");
  return declaresBody && request.readableEnded;
}

function refuseConsumedBody(instance: Cleancut, request: IncomingMessage, response: ServerResponse): void {
  const error = new InternalError(
    "the host app read this request's body before cleancut (a body parser such as express.json() runs on cleancut's mount path): register body parsers after cleancut's mount or on other paths",
  );
  instance.log.error({ method: request.method, url: request.url }, error.message);
  response.writeHead(500, { "content-type": "application/json; charset=utf-8", connection: "close" });
  response.end(JSON.stringify({ error: error.toJSON() }));
}
