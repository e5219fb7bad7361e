import { createHash } from "node:crypto";
import {
  InvalidRequestError,
  InvalidSegmentSizeError,
  segmentLayout,
  type TusUploadFacts,
  UnsupportedContentTypeError,
  type UploadMetadata,
  type UploadRecord,
  UploadTooLargeError,
} from "@cleancut/core";
import { hashToken, newId, newToken } from "../ids.js";
import type { AppContext } from "./context.js";
import type { AdmitCreate } from "./create-access.js";
import type { OpenUploadCap } from "./open-upload-cap.js";

const acceptedContentType = /^(video\/[\w.+-]+|application\/(octet-stream|mp4|ogg|x-matroska))$/i;

export interface OpenUploadRequest {
  filename: string;
  size: number;
  contentType: string;
  segmentSize?: number;
  /** Who it counts against for the open-upload cap (see `creatorOf`). */
  creator: string;
  /** The application's user (from the authorizer or an API-key create), recorded and sent with every event. */
  owner?: string;
  metadata?: UploadMetadata;
  tus?: TusUploadFacts;
  /**
   * The application's say (its authorizer), asked after this server's own checks and before
   * any storage exists; its owner and metadata replace the ones above.
   */
  admit?: AdmitCreate;
}

/**
 * Checks a new upload's declaration and creates it: storage prepared, then the record (or the
 * storage removed again). Both the v1 create and the tus creation come here, so both refuse
 * the same things with the same codes.
 */
export async function openUpload(
  ctx: AppContext,
  cap: OpenUploadCap,
  request: OpenUploadRequest,
): Promise<{ record: UploadRecord; token: string }> {
  const { filename, size, contentType } = request;
  if (hasControlCharacters(filename)) {
    throw new InvalidRequestError("filename must not contain control characters");
  }
  if (!acceptedContentType.test(contentType)) {
    throw new UnsupportedContentTypeError(`contentType ${JSON.stringify(contentType)} is not a video type`);
  }
  if (size > ctx.config.maxUploadSize) {
    throw new UploadTooLargeError(`uploads may be at most ${ctx.config.maxUploadSize} bytes`, {
      details: { size, limit: ctx.config.maxUploadSize },
    });
  }
  const limits = ctx.store.segmentSizeLimits;
  const segmentSize =
    request.segmentSize ?? Math.max(limits.min, Math.min(ctx.config.defaultSegmentSize, limits.max));
  if (segmentSize < limits.min || segmentSize > limits.max) {
    throw new InvalidSegmentSizeError(`segmentSize must be between ${limits.min} and ${limits.max} bytes`, {
      details: { segmentSize, min: limits.min, max: limits.max },
    });
  }
  const layout = segmentLayout(size, segmentSize);
  if (layout.segmentCount > limits.maxSegments) {
    throw new InvalidSegmentSizeError(
      `${layout.segmentCount} segments is more than the ${limits.maxSegments} allowed: use larger segments`,
      { details: { segmentCount: layout.segmentCount, maxSegments: limits.maxSegments } },
    );
  }
  const { owner, metadata } =
    request.admit === undefined
      ? request
      : await request.admit({ filename, size, contentType, metadata: request.metadata ?? {} });
  // Not tied to the request: once storage is prepared, the record must be written too,
  // or the storage removed, whatever the client does meanwhile.
  const signal = new AbortController().signal;
  const id = newId();
  const token = newToken();
  const record = await cap.run(request.creator, signal, async () => {
    const now = Date.now();
    const storageRef = await ctx.store.beginUpload(id, contentType, signal);
    return ctx.repository
      .createUpload(
        {
          id,
          tokenHash: hashToken(token),
          filename,
          contentType,
          size,
          segmentSize,
          segmentCount: layout.segmentCount,
          storageRef,
          createdAt: now,
          expiresAt: now + ctx.config.uploadTtlMs,
          creator: request.creator,
          ...(owner === undefined ? {} : { owner }),
          ...(metadata === undefined ? {} : { metadata }),
          ...(request.tus === undefined ? {} : { tus: request.tus }),
        },
        signal,
        // A tus partial upload is a piece of another upload, never a video: the application
        // hears of the final upload only.
        request.tus?.concat?.kind === "partial"
          ? undefined
          : {
              type: "upload.created",
              data: {
                filename,
                size,
                contentType,
                segmentSize,
                segmentCount: layout.segmentCount,
                expiresAt: new Date(now + ctx.config.uploadTtlMs).toISOString(),
                protocol: request.tus === undefined ? "v1" : "tus",
              },
            },
      )
      .catch(async (error: unknown) => {
        await ctx.store.discardUpload({ id, storageRef }, signal);
        throw error;
      });
  });
  return { record, token };
}

/** The client an upload counts against: its address (hashed, so the database keeps no IP). */
export function creatorOf(address: string): string {
  return `addr:${createHash("sha256").update(address).digest("base64url").slice(0, 22)}`;
}

function hasControlCharacters(text: string): boolean {
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
