import {
  type ConfirmSegmentRequest,
  DirectModeUnavailableError,
  type PresignSegmentResponse,
  SegmentSizeMismatchError,
  type SegmentStore,
  SegmentsMissingError,
  type StoredSegment,
  UploadNotFoundError,
  type UploadRecord,
} from "@cleancut/core";
import type { FastifyInstance } from "fastify";
import { authorizedUpload } from "../auth.js";
import type { AppContext } from "../context.js";
import { requestSignal } from "../request-signal.js";
import { bearerSecurity, errorResponses, segmentParams, storedSegmentSchema } from "../schemas.js";
import { assertAcceptsSegments, expectedSegmentSize, parseSegmentIndex } from "../segment-request.js";

/** How long a presigned segment URL stays valid at most (never past the upload's own expiry). */
export const presignExpiresSeconds = 15 * 60;

/**
 * Direct uploads: the client PUTs each segment's bytes straight to storage with a URL the
 * server presigned for that one segment (it never carries delete rights), then confirms it.
 *
 * Both calls run as in-flight operations of the upload and read its state only after
 * registering (like the proxied PUT): a cancel either is seen here and refused (410), or
 * sees and aborts the call, which then hands out no URL and records nothing.
 */
export function registerDirectSegmentRoutes(app: FastifyInstance, ctx: AppContext): void {
  app.post<{ Params: { id: string; index: string } }>(
    "/v1/uploads/:id/segments/:index/presign",
    {
      schema: {
        summary: "Presign the direct upload of one segment",
        description:
          "A URL to PUT exactly this segment's bytes straight to storage (S3 UploadPart), valid until `expiresAt`. It cannot read or delete anything. Only while the upload is `uploading`; 410 once cancelled. After the PUT succeeded, call `…/confirm`.",
        tags: ["segments"],
        params: segmentParams,
        security: bearerSecurity,
        response: {
          200: {
            type: "object",
            properties: {
              url: { type: "string" },
              method: { type: "string", enum: ["PUT"] },
              headers: { type: "object", additionalProperties: { type: "string" } },
              expiresAt: { type: "string", format: "date-time" },
            },
            required: ["url", "method", "headers", "expiresAt"],
          },
          ...errorResponses(400, 401, 403, 404, 409, 410),
        },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const record = await authorizedUpload(request, ctx.repository, request.params.id, signal);
      const index = parseSegmentIndex(request.params.index, record);
      const size = expectedSegmentSize(record, index);
      const presign = directCapability(ctx.store, "presignSegmentUpload");
      const handle = { id: record.id, storageRef: record.storageRef };
      const body = await ctx.inflight.run(record.id, signal, async (opSignal) => {
        const current = await currentUpload(ctx, record.id, opSignal);
        assertAcceptsSegments(current);
        const now = Date.now();
        // Rounded up: a signature's clock has whole seconds, so rounding down could hand out a
        // URL already expired near the upload's end. A part landing just after the expiry is
        // removed by the expiry's cancel, which aborts until the multipart upload is gone.
        const seconds = Math.max(
          1,
          Math.min(presignExpiresSeconds, Math.ceil((current.expiresAt - now) / 1000)),
        );
        const signed = await presign.call(ctx.store, handle, index, size, seconds);
        // A cancel that arrived while signing wins: no URL leaves this server after it.
        if (opSignal.aborted) throw opSignal.reason;
        const answer: PresignSegmentResponse = {
          url: signed.url,
          method: "PUT",
          headers: signed.headers,
          expiresAt: new Date(now + seconds * 1000).toISOString(),
        };
        return answer;
      });
      return reply.code(200).send(body);
    },
  );

  app.post<{ Params: { id: string; index: string }; Body: ConfirmSegmentRequest }>(
    "/v1/uploads/:id/segments/:index/confirm",
    {
      schema: {
        summary: "Confirm a segment PUT directly to storage",
        description:
          "Checks that storage holds the segment with exactly its size (S3 ListParts), then records the SHA-256 the client declares for it, so that it is listed as a segment and `complete` can join it. The video's own SHA-256 is still computed by the server from the joined object. 409 `segments_missing` when storage holds no such part yet.",
        tags: ["segments"],
        params: segmentParams,
        security: bearerSecurity,
        body: {
          type: "object",
          properties: {
            sha256: { type: "string", pattern: "^[0-9a-f]{64}$" },
            size: { type: "integer", minimum: 0 },
          },
          required: ["sha256", "size"],
          additionalProperties: false,
        },
        response: { 201: storedSegmentSchema, ...errorResponses(400, 401, 403, 404, 409, 410) },
      },
    },
    async (request, reply) => {
      const signal = requestSignal(reply);
      const record = await authorizedUpload(request, ctx.repository, request.params.id, signal);
      const index = parseSegmentIndex(request.params.index, record);
      const size = expectedSegmentSize(record, index);
      if (request.body.size !== size) {
        throw new SegmentSizeMismatchError(`segment ${index} must be exactly ${size} bytes`, {
          details: { expected: size, declared: request.body.size },
        });
      }
      const stat = directCapability(ctx.store, "statSegment");
      const handle = { id: record.id, storageRef: record.storageRef };
      const stored = await ctx.inflight.run(record.id, signal, async (opSignal) => {
        const current = await currentUpload(ctx, record.id, opSignal);
        assertAcceptsSegments(current);
        const held = await stat.call(ctx.store, handle, index, opSignal);
        if (held === undefined) {
          throw new SegmentsMissingError(
            `storage holds no segment ${index} for upload ${record.id}: PUT it to its presigned URL first`,
            { details: { index } },
          );
        }
        if (held !== size) {
          throw new SegmentSizeMismatchError(
            `storage holds ${held} bytes for segment ${index}, not ${size}: PUT it again`,
            { details: { index, expected: size, stored: held } },
          );
        }
        const segment: StoredSegment = { index, size, sha256: request.body.sha256 };
        await ctx.repository.recordSegment(record.id, segment, opSignal);
        return segment;
      });
      return reply.code(201).send(stored);
    },
  );
}

async function currentUpload(ctx: AppContext, id: string, signal: AbortSignal): Promise<UploadRecord> {
  const current = await ctx.repository.getUpload(id, signal);
  if (current === undefined) throw new UploadNotFoundError(`upload ${id} does not exist`);
  return current;
}

function directCapability<K extends "presignSegmentUpload" | "statSegment">(
  store: SegmentStore,
  name: K,
): NonNullable<SegmentStore[K]> {
  const method = store[name];
  if (method === undefined) {
    throw new DirectModeUnavailableError(
      `the ${store.kind} store cannot take segments directly: upload them through the server`,
      { details: { store: store.kind } },
    );
  }
  return method as NonNullable<SegmentStore[K]>;
}
