import type { FastifyInstance } from "fastify";
import type { AppContext } from "../context.js";

/**
 * Probes and metrics for whoever runs the server (load balancer, orchestrator, Prometheus),
 * not for API clients: no auth, and hidden from OpenAPI like /openapi.json itself.
 */
export function registerOperationsRoutes(app: FastifyInstance, ctx: AppContext): void {
  // Liveness: the process answers. Dependencies belong to /readyz, so a database outage
  // takes the instance out of rotation instead of getting it restarted.
  app.get("/healthz", { schema: { hide: true } }, async () => ({ status: "ok" }));

  // Ready: the database and the store both answer a cheap check. Which one failed, and why,
  // goes to the log; the body names only the check (it is served without auth).
  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    const result = await ctx.operations.readiness();
    return reply
      .code(result.ready ? 200 : 503)
      .send({ status: result.ready ? "ok" : "unavailable", checks: result.checks });
  });

  app.get("/metrics", { schema: { hide: true } }, async (_request, reply) => {
    const body = await ctx.operations.metrics.scrape();
    return reply.header("content-type", ctx.operations.metrics.contentType).send(body);
  });
}
