import { InvalidRequestError, type UploadRecord } from "@cleancut/core";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { AppContext } from "../http/context.js";
import { authorizerStep, createAccess } from "../http/create-access.js";
import { validateMetadata } from "../http/metadata.js";
import { creatorOf, openUpload } from "../http/open-upload.js";
import type { OpenUploadCap } from "../http/open-upload-cap.js";
import { publicPath } from "../http/public-path.js";
import { removeIfAbandoned } from "../http/remove-if-abandoned.js";
import { requestSignal } from "../http/request-signal.js";
import { appendBytes } from "./append-bytes.js";
import { concatenateInto, finishedPartials } from "./concatenate.js";
import { finishIfComplete } from "./finish.js";
import { tusPosition } from "./offset.js";
import {
  assertTusVersion,
  carriesTusBytes,
  parseUploadChecksum,
  parseUploadConcat,
  parseUploadMetadata,
  requireByteCount,
} from "./protocol.js";
import { appendDeps, armUnclaimedExpiry, expiryHeaders } from "./tus-upload.js";
import { tusUploadPath } from "./upload-url.js";

/**
 * `POST /files/`: creation (with or without the first bytes in the body), and the final
 * upload of a concatenation. The new upload is a cleancut upload like any other, so
 * `/v1/uploads/<id>` with the URL's token shows it.
 *
 * A client that goes away before the 201 reached it never learnt the URL, so nobody would
 * ever DELETE the upload (tus-js-client's `abort(true)` during creation): the server removes
 * it itself (`removeIfAbandoned`: cancelled and verified, or the video of a final upload
 * deleted). When the close comes too late to be seen, the upload's short unclaimed expiry,
 * counted from the 201, cancels it a little later.
 */
export async function handleCreate(
  ctx: AppContext,
  cap: OpenUploadCap,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  assertTusVersion(request.headers);
  // Same gate as the v1 create (tus clients send the API key or their cookie/token with their
  // `headers` option); a tus create cannot name an owner, only the authorizer can.
  const access = createAccess(request, ctx.config);
  const headers = request.headers;
  if (headers["upload-defer-length"] !== undefined) {
    throw new InvalidRequestError("this server needs Upload-Length at creation (no creation-defer-length)");
  }
  const rawMetadata = headers["upload-metadata"] as string | undefined;
  const metadata = parseUploadMetadata(rawMetadata);
  const appMetadata = applicationMetadata(metadata);
  const concat = parseUploadConcat(headers["upload-concat"] as string | undefined);
  const signal = requestSignal(reply);
  const partials = concat?.kind === "final" ? await finishedPartials(ctx, concat.urls, signal) : undefined;
  const size =
    partials === undefined
      ? requireByteCount(headers, "upload-length")
      : partials.reduce((sum, partial) => sum + partial.size, 0);
  if (size === 0)
    throw new InvalidRequestError("Upload-Length must be at least 1: an empty file is not a video");
  // The full upload lifetime while this request runs; the short unclaimed one from the 201 on.
  const { record, token } = await openUpload(ctx, cap, {
    filename: (metadata.get("filename") ?? metadata.get("name") ?? "upload").slice(0, 255),
    size,
    contentType:
      concat?.kind === "partial"
        ? "application/octet-stream"
        : metadata.get("filetype") || metadata.get("type") || "application/octet-stream",
    creator: creatorOf(request.ip),
    ...(appMetadata === undefined ? {} : { metadata: appMetadata }),
    ...(access === "authorizer"
      ? {
          admit: authorizerStep(ctx.config, request, signal, {
            protocol: "tus",
            ...(concat === undefined ? {} : { concat: concat.kind }),
          }),
        }
      : {}),
    tus: {
      ...(rawMetadata === undefined ? {} : { metadata: rawMetadata }),
      ...(concat === undefined
        ? {}
        : {
            concat:
              concat.kind === "partial"
                ? { kind: "partial" }
                : { kind: "final", parts: (partials ?? []).map((partial) => partial.id) },
          }),
    },
  });
  request.log.info({ uploadId: record.id, size, concat: concat?.kind }, "tus upload created");
  removeIfAbandoned(ctx, reply, record);
  try {
    let offset = 0;
    let current: UploadRecord = record;
    if (partials !== undefined) {
      await concatenateInto(ctx, record, partials, signal);
      current = await finishIfComplete(ctx, record, signal);
      await Promise.all(partials.map((partial) => ctx.cancels.cancel(partial.id, "concatenated")));
      offset = size;
    } else if (carriesTusBytes(headers)) {
      offset = await withFirstBytes(ctx, record, request, signal);
      current = (await ctx.repository.getUpload(record.id, signal)) ?? record;
      if (offset === size) current = await finishIfComplete(ctx, current, signal);
    }
    if (current.state === "uploading") current = await armUnclaimedExpiry(ctx, current, signal);
    return reply
      .code(201)
      .headers({
        location: publicPath(request, tusUploadPath(record.id, token)),
        ...(partials === undefined && offset > 0 ? { "upload-offset": String(offset) } : {}),
        ...expiryHeaders(current),
      })
      .send();
  } catch (error) {
    // The client gets an error and no URL: nobody else could cancel what was made.
    await ctx.cancels.cancel(record.id, "client").catch(() => undefined);
    if (partials !== undefined) {
      await Promise.all(
        partials.map((partial) => ctx.cancels.cancel(partial.id, "client").catch(() => undefined)),
      );
    }
    throw error;
  }
}

/** The pairs that name the file and its type; they are the upload's filename and contentType. */
const fileMetadataKeys = new Set(["filename", "name", "filetype", "type"]);

/**
 * Every other `Upload-Metadata` pair becomes the upload's metadata (a key without a value is an
 * empty string), under the same rules as the v1 `metadata`: 400 `invalid_metadata` otherwise.
 */
function applicationMetadata(pairs: Map<string, string>): Record<string, string> | undefined {
  const entries = [...pairs].filter(([key]) => !fileMetadataKeys.has(key));
  if (entries.length === 0) return undefined;
  return validateMetadata(Object.fromEntries(entries), "Upload-Metadata");
}

/** creation-with-upload: the body is the first PATCH, at offset 0. */
async function withFirstBytes(
  ctx: AppContext,
  record: UploadRecord,
  request: FastifyRequest,
  signal: AbortSignal,
): Promise<number> {
  const checksum = parseUploadChecksum(request.headers["upload-checksum"] as string | undefined);
  return ctx.inflight.run(record.id, signal, async (opSignal) => {
    const position = await tusPosition(ctx.repository, record, opSignal);
    return appendBytes(appendDeps(ctx), record, position, request.raw, checksum, opSignal);
  });
}
