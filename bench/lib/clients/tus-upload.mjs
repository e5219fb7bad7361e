// One tus-js-client 4.x upload of a file (Node entry), as a user writes it: the file is given
// as an `fs.ReadStream` with a path, which tus-js-client turns into its FileSource (it stats the
// file and opens a fresh read stream per PATCH, nothing buffered), and the default `chunkSize`
// (Infinity: the whole file in one PATCH). A `chunkSize` is only required for streams without
// a path. `node tus-upload.mjs ENDPOINT PATH` runs it as a child and prints one JSON line
// `{ms, cpuS, peakRssMiB, url}`; the caller deletes the upload afterwards (see `tusDelete`).
import { createReadStream } from "node:fs";
import { basename } from "node:path";
import { Upload } from "tus-js-client";
import { startWindow } from "../machine-cpu.mjs";
import { peakRssMiB } from "../peak-rss.mjs";

/** The upload; resolves with the time (and machine CPU, `cpuS`) from `start()` to `onSuccess`, and the upload URL. */
export function tusUpload(endpoint, path, { chunkSize } = {}) {
  return new Promise((resolve, reject) => {
    const window = startWindow();
    const upload = new Upload(createReadStream(path), {
      endpoint,
      retryDelays: [0, 500],
      metadata: { filename: basename(path), filetype: "video/mp4" },
      ...(chunkSize ? { chunkSize } : {}),
      onSuccess: () => resolve({ ...window(), url: upload.url }),
      onError: reject,
    });
    upload.start();
  });
}

/** Terminates an upload (tus DELETE), so finished uploads do not fill the disk. */
export async function tusDelete(url) {
  const response = await fetch(url, { method: "DELETE", headers: { "tus-resumable": "1.0.0" } });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`tus DELETE ${url}: ${response.status}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [endpoint, path, chunkSize] = process.argv.slice(2);
  const { ms, cpuS, url } = await tusUpload(endpoint, path, { chunkSize: Number(chunkSize) || undefined });
  process.stdout.write(`${JSON.stringify({ ms, cpuS, peakRssMiB: await peakRssMiB(process.pid), url })}\n`);
}
