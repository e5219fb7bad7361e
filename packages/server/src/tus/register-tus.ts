import type { FastifyInstance } from "fastify";
import type { AppContext } from "../http/context.js";
import { OpenUploadCap } from "../http/open-upload-cap.js";
import { handleCreate } from "./handle-create.js";
import { handleHead } from "./handle-head.js";
import { handleOptions } from "./handle-options.js";
import { handlePatch } from "./handle-patch.js";
import { handleTerminate } from "./handle-terminate.js";
import { PatchLock } from "./patch-lock.js";
import { tusVersion } from "./protocol.js";
import { parseTusUploadRef, tusBasePath } from "./upload-url.js";

type RefRequest = { Params: { ref: string } };

/**
 * The tus 1.0.0 endpoint at `/files/`: tus-js-client, Uppy and other tus clients upload into
 * the same stores, through the same cancel, as the v1 API. One handler per method.
 */
export function registerTus(app: FastifyInstance, ctx: AppContext): void {
  const cap = new OpenUploadCap(ctx.repository, ctx.config.maxOpenUploadsPerClient);
  const lock = new PatchLock();
  const rate = ctx.config.createRateLimit;
  app.register(async (scope) => {
    // Bodies stream to storage; nothing here is parsed or buffered.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_request, _payload, done) => done(null));
    scope.addHook("onRequest", async (request, reply) => {
      const ref = (request.params as { ref?: unknown } | undefined)?.ref;
      if (typeof ref === "string") {
        // The id only: the URL's token part never reaches a log line.
        const id = safeId(ref);
        if (id !== undefined) {
          request.log = request.log.child({ uploadId: id });
          reply.log = request.log;
        }
      }
    });
    scope.addHook("onSend", async (request, reply, payload) => {
      if (request.method !== "OPTIONS") reply.header("tus-resumable", tusVersion);
      if (reply.statusCode === 412 || request.method === "OPTIONS") reply.header("tus-version", tusVersion);
      return payload;
    });
    const routeConfig = { schema: { hide: true } };
    for (const path of [tusBasePath, tusBasePath.slice(0, -1)]) {
      scope.options(path, routeConfig, async (_request, reply) => handleOptions(ctx, reply));
      scope.post(
        path,
        {
          ...routeConfig,
          config: rate === false ? {} : { rateLimit: { max: rate.max, timeWindow: rate.windowMs } },
        },
        async (request, reply) => handleCreate(ctx, cap, request, reply),
      );
    }
    scope.options(`${tusBasePath}:ref`, routeConfig, async (_request, reply) => handleOptions(ctx, reply));
    scope.head<RefRequest>(`${tusBasePath}:ref`, routeConfig, async (request, reply) =>
      handleHead(ctx, request, reply),
    );
    scope.patch<RefRequest>(`${tusBasePath}:ref`, routeConfig, async (request, reply) =>
      handlePatch(ctx, lock, request, reply),
    );
    scope.delete<RefRequest>(`${tusBasePath}:ref`, routeConfig, async (request, reply) =>
      handleTerminate(ctx, request, reply),
    );
  });
}

function safeId(ref: string): string | undefined {
  try {
    return parseTusUploadRef(ref).id;
  } catch {
    return undefined;
  }
}
