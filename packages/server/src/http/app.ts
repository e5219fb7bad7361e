import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import type { AppContext } from "./context.js";
import { installErrorHandling } from "./errors.js";
import { registerCancelUpload } from "./routes/cancel-upload.js";
import { registerCompleteUpload } from "./routes/complete-upload.js";
import { registerCreateUpload } from "./routes/create-upload.js";
import { registerDirectSegmentRoutes } from "./routes/direct-segments.js";
import { registerPutSegment } from "./routes/put-segment.js";
import { registerSegmentRoutes } from "./routes/segments.js";
import { registerUploadRoutes } from "./routes/uploads.js";
import { registerVideoRoutes } from "./routes/videos.js";
import { defaultWebRoot, registerWebPage } from "./routes/web-page.js";

export async function buildApp(ctx: AppContext, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Whole-request timeouts would kill a slow but honest segment upload; an idle socket
    // timeout cuts off stalled senders instead.
    requestTimeout: 0,
    connectionTimeout: ctx.config.requestTimeoutMs,
    bodyLimit: 64 * 1024,
    // On shutdown, cut every connection: a sender we refused mid-body may hold its socket
    // open (half-closed) and would otherwise keep close() waiting for the idle timeout.
    forceCloseConnections: true,
    // Per-request lines only when debugging: the upload log lines carry what matters.
    logController: new LogController({
      disableRequestLogging: ctx.config.logLevel !== "debug" && ctx.config.logLevel !== "trace",
    }),
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false, allErrors: false } },
  });
  installErrorHandling(app);
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
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
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  if (ctx.config.webRoot !== false) await registerWebPage(app, ctx.config.webRoot ?? defaultWebRoot());
  return app;
}
