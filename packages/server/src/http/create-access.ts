import { ForbiddenError, type UploadMetadata, UploadTooLargeError } from "@cleancut/core";
import type { FastifyRequest } from "fastify";
import type { ServerConfig } from "../config.js";
import { hasApiKey, requireApiKey } from "./auth.js";
import { askAuthorizer, forwardedHeaders } from "./authorize.js";
import { assertMetadataSize } from "./metadata.js";

/**
 * Who is creating an upload:
 * - `app`: the application itself, with the API key. It may name the `owner`; the authorizer is not asked.
 * - `authorizer`: anyone else, when an authorizer is configured: the application decides.
 * - `open`: no authorizer, and no API key on this server (or the check below let the caller in).
 */
export type CreateAccess = "app" | "authorizer" | "open";

/**
 * Decides how a create is let in, before anything is read further: without an authorizer, a
 * server with an API key refuses everyone else (401/403, as before). Naming an `owner` is the
 * application's privilege: 403 `forbidden` for anyone without the API key.
 */
export function createAccess(request: FastifyRequest, config: ServerConfig, owner?: string): CreateAccess {
  const access: CreateAccess = hasApiKey(request, config.apiKey)
    ? "app"
    : config.authorizeUrl !== undefined
      ? "authorizer"
      : "open";
  if (access === "open") requireApiKey(request, config.apiKey);
  if (owner !== undefined && access !== "app") {
    throw new ForbiddenError("only the application may set owner: create with the server's API key");
  }
  return access;
}

/** What the create declares, as `openUpload` checked it. */
export interface CreateDeclaration {
  filename: string;
  size: number;
  contentType: string;
  metadata: UploadMetadata;
}

/** The owner and metadata to record, once the application allowed the create. */
export interface CreateAdmission {
  owner?: string;
  metadata?: UploadMetadata;
}

export type AdmitCreate = (declared: CreateDeclaration) => Promise<CreateAdmission>;

/**
 * The step `openUpload` runs after its own checks and before any storage exists: asks the
 * authorizer, applies its `maxSize` (413 `upload_too_large`) and merges its metadata over
 * the caller's (the merged metadata obeys the same 4 KiB rule).
 */
export function authorizerStep(
  config: ServerConfig,
  request: FastifyRequest,
  signal: AbortSignal,
  call: { protocol: "v1" | "tus"; concat?: "partial" | "final" },
): AdmitCreate {
  const url = config.authorizeUrl;
  if (url === undefined) throw new Error("authorizerStep needs authorizeUrl");
  return async (declared) => {
    const decision = await askAuthorizer(
      { url, timeoutMs: config.authorizeTimeoutMs },
      { ...declared, ...call, headers: forwardedHeaders(request.headers, config.authorizeHeaders) },
      signal,
    );
    if (decision.maxSize !== undefined && declared.size > decision.maxSize) {
      throw new UploadTooLargeError(`the application allows this upload at most ${decision.maxSize} bytes`, {
        details: { size: declared.size, limit: decision.maxSize },
      });
    }
    const metadata =
      decision.metadata === undefined
        ? declared.metadata
        : assertMetadataSize(
            { ...declared.metadata, ...decision.metadata },
            "metadata with the application's",
          );
    return {
      ...(decision.owner === undefined ? {} : { owner: decision.owner }),
      ...(Object.keys(metadata).length === 0 ? {} : { metadata }),
    };
  };
}
