import { RateLimitedError } from "@cleancut/core";
import cors from "@fastify/cors";
import rateLimit from "@fastify/rate-limit";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { ServerConfig } from "../config.js";
import { tusRequestHeaders, tusResponseHeaders } from "../tus/protocol.js";
import { registerTus } from "../tus/register-tus.js";
import type { AppContext } from "./context.js";
import { installErrorHandling } from "./errors.js";
import { openapiWebhooks } from "./openapi-webhooks.js";
import { registerCancelUpload } from "./routes/cancel-upload.js";
import { registerCompleteUpload } from "./routes/complete-upload.js";
import { registerCreateUpload } from "./routes/create-upload.js";
import { registerDirectSegmentRoutes } from "./routes/direct-segments.js";
import { registerOperationsRoutes } from "./routes/operations.js";
import { registerPutSegment } from "./routes/put-segment.js";
import { registerSegmentRoutes } from "./routes/segments.js";
import { registerUploadRoutes } from "./routes/uploads.js";
import { registerVideoRoutes } from "./routes/videos.js";
import { defaultWebRoot, registerWebPage } from "./routes/web-page.js";

/** The standalone server's Fastify instance, with `register` adding cleancut's routes to its root. */
export async function buildApp(
  config: ServerConfig,
  logger: Logger,
  register: (app: FastifyInstance) => Promise<void>,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Whole-request timeouts would kill a slow but honest segment upload; an idle socket
    // timeout cuts off stalled senders instead.
    requestTimeout: 0,
    connectionTimeout: config.requestTimeoutMs,
    bodyLimit: 64 * 1024,
    // Long enough that an overlong id reaches the handler and gets `invalid_upload_id`, rather
    // than the router's bare 414.
    routerOptions: { maxParamLength: 1024 },
    // On shutdown, cut every connection: a sender we refused mid-body may hold its socket
    // open (half-closed) and would otherwise keep close() waiting for the idle timeout.
    forceCloseConnections: true,
    // Per-request lines only when debugging: the upload log lines carry what matters.
    logController: new LogController({
      disableRequestLogging: config.logLevel !== "debug" && config.logLevel !== "trace",
    }),
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, allErrors: false } },
  });
  await register(app);
  return app;
}

/**
 * Everything cleancut serves, registered into `app`: the standalone server's root, or the
 * encapsulated scope of the plugin inside a host app (where the error handler, parsers, CORS
 * and rate limiter below stay in cleancut's scope).
 */
export async function registerCleancutRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  installErrorHandling(app);
  // Closed by default: the page is same-origin; other origins only when listed.
  if (ctx.config.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: ctx.config.corsOrigins,
      methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
      allowedHeaders: ["authorization", "content-type", "content-digest", ...tusRequestHeaders],
      exposedHeaders: ["location", "retry-after", ...tusResponseHeaders],
      maxAge: 600,
    });
  }
  // Only routes that ask for it (creates), keyed by client address; answered like every error.
  await app.register(rateLimit, {
    global: false,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(`too many uploads created: at most ${context.max} per ${context.after}`, {
        details: { limit: context.max, retryAfterMs: context.ttl },
      }),
  });
  bindResourceIdsToLogs(app);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      webhooks: openapiWebhooks(),
      info: {
        title: "cleancut",
        version: "1",
        description:
          "Segmented video uploads whose cancel deletes every uploaded byte and verifies it. Errors are `{error:{code, message}}` with stable codes.",
      },
      components: {
        securitySchemes: {
          uploadToken: {
            type: "http",
            scheme: "bearer",
            description:
              "The upload's token from POST /v1/uploads (or the server's API key for create and list).",
          },
        },
      },
    },
  });
  registerCreateUpload(app, ctx);
  registerPutSegment(app, ctx);
  registerUploadRoutes(app, ctx);
  registerSegmentRoutes(app, ctx);
  registerDirectSegmentRoutes(app, ctx);
  registerCompleteUpload(app, ctx);
  registerCancelUpload(app, ctx);
  registerVideoRoutes(app, ctx);
  registerOperationsRoutes(app, ctx);
  registerTus(app, ctx);
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  if (ctx.config.webRoot !== false)
    await registerWebPage(app, ctx.config.webRoot ?? defaultWebRoot(), ctx.config.corsOrigins);
}

/**
 * Every line logged while serving `/v1/uploads/:id…` carries `uploadId` (and `/v1/videos/:id…`
 * carries `videoId`), error lines included: the request's logger is replaced by a child bound
 * to the id before any handler or error handler runs. Params are known once the route matched.
 */
function bindResourceIdsToLogs(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    // Route urls carry the mount prefix inside a host app.
    const url = (request.routeOptions.url ?? "").slice(app.prefix.length);
    const id = (request.params as { id?: unknown } | undefined)?.id;
    if (typeof id !== "string") return;
    const key = url.startsWith("/v1/uploads/:id")
      ? "uploadId"
      : url.startsWith("/v1/videos/:id")
        ? "videoId"
        : undefined;
    if (key === undefined) return;
    const child = request.log.child({ [key]: id });
    request.log = child;
    reply.log = child;
  });
}
