import {
  InvalidRequestError,
  TusVersionUnsupportedError,
  UnsupportedChecksumAlgorithmError,
} from "@cleancut/core";

/** tus 1.0.0 (https://tus.io/protocols/resumable-upload): what this server speaks and announces. */
export const tusVersion = "1.0.0";
export const tusExtensions = [
  "creation",
  "creation-with-upload",
  "termination",
  "expiration",
  "checksum",
  "concatenation",
] as const;
export const tusChecksumAlgorithms = ["sha1", "sha256"] as const;
export type TusChecksumAlgorithm = (typeof tusChecksumAlgorithms)[number];
export const tusContentType = "application/offset+octet-stream";

/** Headers a browser client must be allowed to send and read (CORS). */
export const tusRequestHeaders = [
  "tus-resumable",
  "upload-length",
  "upload-offset",
  "upload-metadata",
  "upload-checksum",
  "upload-concat",
  "upload-defer-length",
  "content-type",
  "x-http-method-override",
  "x-requested-with",
];
export const tusResponseHeaders = [
  "tus-resumable",
  "tus-version",
  "tus-extension",
  "tus-max-size",
  "tus-checksum-algorithm",
  "upload-length",
  "upload-offset",
  "upload-metadata",
  "upload-expires",
  "upload-concat",
  "location",
];

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Every request but OPTIONS must say `Tus-Resumable: 1.0.0`; anything else is 412. */
export function assertTusVersion(headers: Headers): void {
  const version = single(headers, "tus-resumable");
  if (version === tusVersion) return;
  throw new TusVersionUnsupportedError(
    version === undefined
      ? "tus requests need the header Tus-Resumable: 1.0.0"
      : `this server speaks tus ${tusVersion}, not ${JSON.stringify(version.slice(0, 32))}`,
    { details: { supported: [tusVersion] } },
  );
}

/** A non-negative integer header (Upload-Length, Upload-Offset), or undefined when absent. */
export function parseByteCount(headers: Headers, name: string): number | undefined {
  const raw = single(headers, name);
  if (raw === undefined) return undefined;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new InvalidRequestError(
      `${name} must be a non-negative integer, got ${JSON.stringify(raw.slice(0, 32))}`,
    );
  }
  return Number(raw);
}

export function requireByteCount(headers: Headers, name: string): number {
  const value = parseByteCount(headers, name);
  if (value === undefined) throw new InvalidRequestError(`this request needs the header ${name}`);
  return value;
}

/**
 * `Upload-Metadata`: comma-separated `key base64value` pairs (the value may be absent). Returns
 * the decoded values; the raw header is what HEAD hands back.
 */
export function parseUploadMetadata(raw: string | undefined): Map<string, string> {
  const metadata = new Map<string, string>();
  if (raw === undefined || raw.trim() === "") return metadata;
  if (raw.length > 4096) throw new InvalidRequestError("Upload-Metadata may be at most 4096 characters");
  for (const pair of raw.split(",")) {
    const [key, value, ...rest] = pair.trim().split(" ");
    if (key === undefined || !/^[\x21-\x7e]+$/.test(key) || key.includes(",") || rest.length > 0) {
      throw new InvalidRequestError("Upload-Metadata must be comma-separated `key base64value` pairs");
    }
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
      throw new InvalidRequestError(`Upload-Metadata value of ${JSON.stringify(key)} is not base64`);
    }
    if (metadata.has(key))
      throw new InvalidRequestError(`Upload-Metadata names ${JSON.stringify(key)} twice`);
    metadata.set(key, value === undefined ? "" : Buffer.from(value, "base64").toString("utf8"));
  }
  return metadata;
}

export interface UploadChecksum {
  algorithm: TusChecksumAlgorithm;
  /** The digest the body must have, as bytes' base64 (as sent). */
  base64: string;
}

/** `Upload-Checksum: <algorithm> <base64 digest>`; unknown algorithms are 400. */
export function parseUploadChecksum(raw: string | undefined): UploadChecksum | undefined {
  if (raw === undefined) return undefined;
  const [algorithm, digest, ...rest] = raw.trim().split(" ");
  if (algorithm === undefined || digest === undefined || rest.length > 0) {
    throw new InvalidRequestError("Upload-Checksum must be `<algorithm> <base64 digest>`");
  }
  if (!(tusChecksumAlgorithms as readonly string[]).includes(algorithm)) {
    throw new UnsupportedChecksumAlgorithmError(
      `Upload-Checksum algorithm ${JSON.stringify(algorithm.slice(0, 32))} is not supported: use ${tusChecksumAlgorithms.join(" or ")}`,
      { details: { supported: [...tusChecksumAlgorithms] } },
    );
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(digest)) {
    throw new InvalidRequestError("Upload-Checksum digest must be base64");
  }
  return { algorithm: algorithm as TusChecksumAlgorithm, base64: digest };
}

export type UploadConcat = { kind: "partial" } | { kind: "final"; urls: string[] };

/** `Upload-Concat: partial` or `final;<url> <url> …`. */
export function parseUploadConcat(raw: string | undefined): UploadConcat | undefined {
  if (raw === undefined) return undefined;
  const value = raw.trim();
  if (value === "partial") return { kind: "partial" };
  if (value.startsWith("final;")) {
    const urls = value.slice("final;".length).trim().split(/\s+/).filter(Boolean);
    if (urls.length === 0)
      throw new InvalidRequestError("Upload-Concat: final needs the partial uploads' URLs");
    if (urls.length > 1000)
      throw new InvalidRequestError("Upload-Concat: final may name at most 1000 uploads");
    return { kind: "final", urls };
  }
  throw new InvalidRequestError("Upload-Concat must be `partial` or `final;<url> <url> …`");
}

/** Whether the request's body is tus upload bytes (`Content-Type: application/offset+octet-stream`). */
export function carriesTusBytes(headers: Headers): boolean {
  return single(headers, "content-type")?.split(";")[0]?.trim().toLowerCase() === tusContentType;
}

/** The HTTP date `Upload-Expires` carries. */
export function httpDate(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}
