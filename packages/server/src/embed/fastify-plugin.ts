import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { type Cleancut, type CleancutOptions, createCleancut } from "../server.js";

export interface CleancutPluginOptions extends CleancutOptions {
  /** Where cleancut is served in the host (Fastify's own register option), e.g. `/uploads`. */
  prefix?: string;
  /**
   * A cleancut built with `createCleancut` (to keep its handle for `on(…)` and the rest); the
   * plugin then serves that one instead of building its own. Either way the host's `close()`
   * drains and closes it.
   */
  cleancut?: Cleancut;
}

/** What `createCleancut` would refuse inside a host; the plugin keeps its body limit scoped. */
const jsonBodyLimit = 64 * 1024;

/**
 * cleancut as a Fastify 5 plugin: `await app.register(cleancut, { prefix: "/uploads", … })`.
 * It is encapsulated (no fastify-plugin skip-override): its error and not-found handlers,
 * content-type parsers, CORS, rate limiter, validators and OpenAPI document apply to its own
 * routes only. The reaper starts on register; the host's `close()` drains cleancut's requests
 * (before the host stops listening) and then closes its services and database.
 */
export async function cleancut(scope: FastifyInstance, options: CleancutPluginOptions): Promise<void> {
  const { prefix: _prefix, cleancut: given, ...rest } = options;
  const instance =
    given ?? (await createCleancut({ ...rest, logger: rest.logger ?? (scope.log as unknown as Logger) }));
  try {
    // The host's body limit (1 MiB by default) would apply otherwise; cleancut's JSON bodies
    // are small and its raw bodies are never parsed (they stream to storage).
    scope.addHook("onRoute", (route) => {
      route.bodyLimit ??= jsonBodyLimit;
    });
    await instance.routes(scope);
  } catch (error) {
    if (given === undefined) await instance.close();
    throw error;
  }
  // preClose runs after the host stopped routing new requests and before it drops
  // connections: the right moment to let cleancut's requests in flight finish.
  scope.addHook("preClose", async () => {
    await instance.close();
  });
  scope.addHook("onClose", async () => {
    await instance.close();
  });
}
