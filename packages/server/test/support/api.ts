import { createHash, randomBytes } from "node:crypto";
import type { CreateUploadResponse } from "@cleancut/core";

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A thin JSON client over the real HTTP API (Node's fetch). */
export class Api {
  constructor(readonly baseUrl: string) {}

  async call<T = any>(
    method: string,
    path: string,
    options: { token?: string; json?: unknown; body?: Uint8Array; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: BodyInit | undefined;
    if (options.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(options.json);
    } else if (options.body !== undefined) {
      headers["content-type"] ??= "application/octet-stream";
      body = asBody(options.body);
    }
    const response = await fetch(new URL(path, this.baseUrl), { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("json") && text !== "")
      parsed = JSON.parse(text);
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  async create(
    size: number,
    segmentSize?: number,
    extra: Record<string, unknown> = {},
  ): Promise<CreateUploadResponse> {
    const response = await this.call<CreateUploadResponse>("POST", "/v1/uploads", {
      json: {
        filename: "clip.mp4",
        size,
        contentType: "video/mp4",
        ...(segmentSize === undefined ? {} : { segmentSize }),
        ...extra,
      },
    });
    if (response.status !== 201)
      throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  putSegment(
    upload: CreateUploadResponse,
    index: number,
    bytes: Uint8Array,
    headers: Record<string, string> = {},
  ) {
    return this.call("PUT", `/v1/uploads/${upload.id}/segments/${index}`, {
      token: upload.token,
      body: bytes,
      headers,
    });
  }

  cancel(upload: CreateUploadResponse) {
    return this.call("DELETE", `/v1/uploads/${upload.id}`, { token: upload.token });
  }

  status(upload: CreateUploadResponse) {
    return this.call("GET", `/v1/uploads/${upload.id}`, { token: upload.token });
  }

  segments(upload: CreateUploadResponse) {
    return this.call("GET", `/v1/uploads/${upload.id}/segments`, { token: upload.token });
  }

  complete(upload: CreateUploadResponse) {
    return this.call("POST", `/v1/uploads/${upload.id}/complete`, { token: upload.token });
  }
}

/** The bytes of segment `index` when `file` is cut into `segmentSize` pieces. */
export function sliceSegment(file: Uint8Array, segmentSize: number, index: number): Uint8Array {
  return file.subarray(index * segmentSize, Math.min(file.length, (index + 1) * segmentSize));
}

export function randomFile(size: number): Buffer {
  return randomBytes(size);
}

export function contentDigest(bytes: Uint8Array): string {
  return `sha-256=:${createHash("sha256").update(bytes).digest("base64")}:`;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Bytes as a fetch body. Node's Buffers and their slices are backed by plain ArrayBuffers, but
 * TypeScript types them over ArrayBufferLike, which BodyInit does not take.
 */
export function asBody(bytes: Uint8Array): BodyInit {
  return bytes as Uint8Array<ArrayBuffer>;
}
