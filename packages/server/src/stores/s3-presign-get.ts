import { createHash, createHmac } from "node:crypto";
import type { S3StoreCredentials } from "./s3-store-options.js";

/** RFC 3986 encoding as SigV4 wants it (S3: path segments encoded once, `/` kept). */
function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** A SigV4 query-presigned GET URL for a path-style endpoint. */
export function presignGetUrl(input: {
  endpoint: string;
  region: string;
  credentials: S3StoreCredentials;
  bucket: string;
  key: string;
  expiresSeconds: number;
  now: Date;
}): string {
  const base = new URL(input.endpoint);
  const basePath = base.pathname.replace(/\/+$/, "");
  const path = `${basePath}/${[input.bucket, ...input.key.split("/")].map(encodeRfc3986).join("/")}`;
  const amzDate = input.now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const query: Array<[string, string]> = [
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${input.credentials.accessKeyId}/${scope}`],
    ["X-Amz-Date", amzDate],
    ["X-Amz-Expires", String(input.expiresSeconds)],
    ["X-Amz-SignedHeaders", "host"],
  ];
  if (input.credentials.sessionToken !== undefined) {
    query.push(["X-Amz-Security-Token", input.credentials.sessionToken]);
  }
  const canonicalQuery = query
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalRequest = [
    "GET",
    path,
    canonicalQuery,
    `host:${base.host}`,
    "",
    "host",
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    amzDate,
    scope,
    createHash("sha256").update(canonicalRequest).digest("hex"),
  ].join("\n");
  let signingKey: Buffer = createHmac("sha256", `AWS4${input.credentials.secretAccessKey}`)
    .update(day)
    .digest();
  for (const part of [input.region, "s3", "aws4_request"]) {
    signingKey = createHmac("sha256", signingKey).update(part).digest();
  }
  const signature = createHmac("sha256", signingKey).update(stringToSign).digest("hex");
  return `${base.origin}${path}?${canonicalQuery}&X-Amz-Signature=${signature}`;
}
