import type { UploadEventType } from "@cleancut/core";
import { cancelReportSchema, metadataSchema, ownerSchema, videoSchema } from "./schemas.js";

/**
 * The OpenAPI 3.1 `webhooks` map: one entry per event cleancut POSTs to `--webhook-url`, with
 * its body. Written from the same schemas as the routes, so a field documented for
 * `GET /v1/uploads/{id}` reads the same in an event.
 */
const eventData: Record<UploadEventType, { description: string; properties: object; required: string[] }> = {
  "upload.created": {
    description: "An upload was created (`POST /v1/uploads`, or a tus creation at `/files/`).",
    properties: {
      filename: { type: "string" },
      size: { type: "integer" },
      contentType: { type: "string" },
      segmentSize: { type: "integer" },
      segmentCount: { type: "integer" },
      expiresAt: { type: "string", format: "date-time" },
      protocol: { type: "string", enum: ["v1", "tus"] },
    },
    required: ["filename", "size", "contentType", "segmentSize", "segmentCount", "expiresAt", "protocol"],
  },
  "upload.completed": {
    description: "The upload was joined into a video and checked.",
    properties: {
      videoId: { type: "string" },
      size: { type: "integer" },
      sha256: { type: "string" },
      probe: videoSchema.properties.probe,
    },
    required: ["videoId", "size", "sha256", "probe"],
  },
  "upload.failed": {
    description: "The upload ended without a video (e.g. `not_a_video`); its storage was removed, verified.",
    properties: { code: { type: "string" }, message: { type: "string" }, report: cancelReportSchema },
    required: ["code", "message"],
  },
  "upload.cancelled": {
    description: "A cancel finished: storage was listed again and held nothing (`report.verified` is true).",
    properties: { report: cancelReportSchema },
    required: ["report"],
  },
  "upload.cancel_pending": {
    description:
      "A cleanup could not finish yet (the 202): `report.failures` says why. `upload.cancelled` (or `upload.expired`) follows once verified. Sent once per cancel.",
    properties: { report: cancelReportSchema },
    required: ["report"],
  },
  "upload.expired": {
    description: "The server cancelled an upload not completed by `expiresAt`; storage verified empty.",
    properties: { report: cancelReportSchema },
    required: ["report"],
  },
  "video.deleted": {
    description: "A completed video was deleted.",
    properties: { videoId: { type: "string" } },
    required: ["videoId"],
  },
};

const signatureHeaders = [
  ["webhook-id", "The event id: the same on every retry of this event."],
  ["webhook-timestamp", "This attempt's time, in unix seconds."],
  [
    "webhook-signature",
    "`v1,` + base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the `whsec_` secret's bytes.",
  ],
].map(([name, description]) => ({
  name,
  in: "header",
  required: true,
  schema: { type: "string" },
  description,
}));

export function openapiWebhooks(): Record<string, object> {
  const webhooks: Record<string, object> = {};
  for (const [type, data] of Object.entries(eventData)) {
    webhooks[type] = {
      post: {
        summary: type,
        description: `${data.description} Signed in the Standard Webhooks format; answer 2xx once stored (anything else is retried).`,
        parameters: signatureHeaders,
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                properties: {
                  id: { type: "string" },
                  type: { type: "string", const: type },
                  timestamp: { type: "string", format: "date-time" },
                  data: {
                    type: "object",
                    properties: {
                      uploadId: { type: "string" },
                      owner: ownerSchema,
                      metadata: metadataSchema,
                      ...data.properties,
                    },
                    required: ["uploadId", ...data.required],
                  },
                },
                required: ["id", "type", "timestamp", "data"],
              },
            },
          },
        },
        responses: { "2XX": { description: "Stored: not sent again." } },
      },
    };
  }
  return webhooks;
}
