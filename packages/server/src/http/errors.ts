import {
  type CleancutError,
  httpStatusOf,
  InternalError,
  InvalidMetadataError,
  InvalidRequestError,
  isCleancutError,
  PayloadTooLargeError,
  RouteNotFoundError,
  UnsupportedContentTypeError,
} from "@cleancut/core";
import type { FastifyError, FastifyInstance } from "fastify";

/** Turns anything thrown into a CleancutError: the only shape that reaches the wire. */
export function toCleancutError(error: unknown): CleancutError {
  if (isCleancutError(error)) return error;
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation !== undefined) {
    // `metadata` has its own code, whichever of its rules the schema caught.
    if (fastifyError.validation.some((issue) => issue.instancePath.startsWith("/metadata"))) {
      return new InvalidMetadataError(fastifyError.message ?? "metadata is invalid", { cause: error });
    }
    return new InvalidRequestError(fastifyError.message ?? "the request is invalid", { cause: error });
  }
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new PayloadTooLargeError("the request body is too large", { cause: error });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new UnsupportedContentTypeError("this endpoint does not take that Content-Type", {
        cause: error,
      });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new InvalidRequestError(fastifyError.message ?? "the request body is malformed", {
        cause: error,
      });
  }
  if (error instanceof SyntaxError) return new InvalidRequestError(error.message, { cause: error });
  return new InternalError("internal error", { cause: error });
}

/** Every error leaves as `{error:{code, message}}` with the status from the one table in core. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const cleancutError = toCleancutError(error);
    const status = httpStatusOf(cleancutError) || 500;
    if (status >= 500) request.log.error({ err: error }, "request failed");
    else request.log.info({ code: cleancutError.code }, cleancutError.message);
    // A request whose body we did not read to the end cannot be reused: close it.
    if (!request.raw.complete) void reply.header("connection", "close");
    return reply.code(status).send({ error: cleancutError.toJSON() });
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new RouteNotFoundError(`no route for ${request.method} ${request.url.split("?")[0]}`);
    return reply.code(404).send({ error: error.toJSON() });
  });
}
