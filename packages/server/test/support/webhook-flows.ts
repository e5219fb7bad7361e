import type { CreateUploadResponse } from "@cleancut/core";
import { Api, randomFile } from "./api.js";

/** Bytes that pass the container sniff as MP4 (servers in these tests run with `ffprobe: false`). */
export function fakeMp4(size: number): Buffer {
  const bytes = randomFile(size);
  bytes.write("ftypisom", 4, "latin1");
  return bytes;
}

/** A one-segment upload, created and sent: ready to complete or cancel. */
export async function sentUpload(api: Api, bytes: Uint8Array): Promise<CreateUploadResponse> {
  const upload = await api.create(bytes.length, 64 * 1024);
  const put = await api.putSegment(upload, 0, bytes);
  if (put.status !== 201) throw new Error(`segment PUT answered ${put.status}`);
  return upload;
}

/** Creates an upload and cancels it at once: `upload.created` then `upload.cancelled`. */
export async function createAndCancel(api: Api): Promise<CreateUploadResponse> {
  const upload = await api.create(1024, 64 * 1024);
  const cancel = await api.cancel(upload);
  if (cancel.status !== 200) throw new Error(`cancel answered ${cancel.status}`);
  return upload;
}

export { Api };
