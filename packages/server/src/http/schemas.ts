/** JSON schemas shared by the routes: they validate requests and become the OpenAPI document. */
export const errorSchema = {
  type: "object",
  properties: {
    error: {
      type: "object",
      properties: {
        code: { type: "string" },
        message: { type: "string" },
        details: { type: "object", additionalProperties: true },
      },
      required: ["code", "message"],
    },
  },
  required: ["error"],
} as const;

export const storedSegmentSchema = {
  type: "object",
  properties: {
    index: { type: "integer" },
    size: { type: "integer" },
    sha256: { type: "string", description: "hex SHA-256 of the segment" },
  },
  required: ["index", "size", "sha256"],
} as const;

const remnantSchema = {
  type: "object",
  properties: { index: { type: "integer" }, name: { type: "string" }, size: { type: "integer" } },
  required: ["name", "size"],
} as const;

const failureSchema = {
  type: "object",
  properties: {
    index: { type: "integer" },
    name: { type: "string" },
    code: { type: "string" },
    message: { type: "string" },
  },
  required: ["name", "code", "message"],
} as const;

export const cancelReportSchema = {
  type: "object",
  description:
    "The outcome of a cancel. `verified` is true only once storage was listed again and held nothing.",
  properties: {
    id: { type: "string" },
    state: { type: "string", enum: ["cancelling", "cancelled"] },
    reason: { type: "string", enum: ["client", "expired", "not_a_video", "concatenated"] },
    abortedTransfers: { type: "integer" },
    deletedSegments: { type: "integer" },
    deletedBytes: { type: "integer" },
    remainingSegments: { type: "integer" },
    remaining: { type: "array", items: remnantSchema },
    failures: { type: "array", items: failureSchema },
    verified: { type: "boolean" },
    attempts: { type: "integer" },
    requestedAt: { type: "string", format: "date-time" },
    finishedAt: { type: "string", format: "date-time" },
    durationMs: { type: "number" },
    nextAttemptAt: { type: "string", format: "date-time" },
  },
  required: ["id", "state", "deletedSegments", "deletedBytes", "remainingSegments", "verified", "durationMs"],
} as const;

/** An upload's free-form strings (its own rules give 400 `invalid_metadata`, see metadata.ts). */
export const metadataSchema = {
  type: "object",
  description:
    "Free-form strings for the application, recorded on the upload and sent with its events: a JSON object whose values are strings, keys 1–64 characters, at most 4 KiB as JSON; else 400 `invalid_metadata`.",
  propertyNames: { minLength: 1, maxLength: 64 },
  additionalProperties: { type: "string" },
} as const;

export const ownerSchema = {
  type: "string",
  minLength: 1,
  maxLength: 255,
  description: "The application's user this upload belongs to (set by its authorizer or its API-key create).",
} as const;

export const uploadStatusSchema = {
  type: "object",
  properties: {
    id: { type: "string" },
    state: {
      type: "string",
      enum: ["uploading", "completing", "completed", "cancelling", "cancelled", "failed"],
    },
    filename: { type: "string" },
    contentType: { type: "string" },
    size: { type: "integer" },
    segmentSize: { type: "integer" },
    segmentCount: { type: "integer" },
    receivedSegments: { type: "integer" },
    receivedBytes: { type: "integer" },
    createdAt: { type: "string", format: "date-time" },
    expiresAt: { type: "string", format: "date-time" },
    videoId: { type: "string" },
    owner: ownerSchema,
    metadata: metadataSchema,
    cancel: cancelReportSchema,
    error: { type: "object", properties: { code: { type: "string" }, message: { type: "string" } } },
  },
  required: ["id", "state", "size", "segmentSize", "segmentCount", "receivedSegments", "receivedBytes"],
} as const;

export const videoSchema = {
  type: "object",
  properties: {
    videoId: { type: "string" },
    uploadId: { type: "string" },
    filename: { type: "string" },
    contentType: { type: "string" },
    size: { type: "integer" },
    sha256: { type: "string" },
    createdAt: { type: "string", format: "date-time" },
    probe: {
      type: "object",
      properties: {
        container: { type: "string" },
        durationSeconds: { type: "number" },
        width: { type: "integer" },
        height: { type: "integer" },
        videoCodec: { type: "string" },
        audioCodec: { type: "string" },
      },
    },
  },
  required: ["videoId", "uploadId", "size", "sha256", "probe"],
} as const;

export const uploadIdParams = {
  type: "object",
  properties: { id: { type: "string", description: "upload id (22 characters of [A-Za-z0-9_-])" } },
  required: ["id"],
} as const;

export const segmentParams = {
  type: "object",
  properties: {
    id: { type: "string" },
    index: { type: "string", description: "0-based segment index" },
  },
  required: ["id", "index"],
} as const;

export const bearerSecurity = [{ uploadToken: [] }];

/** The error responses a route may give, for the OpenAPI document. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(statuses.map((status) => [status, errorSchema]));
}
