// One upload through @cleancut/client (Node entry, undici), run as its own process so its
// peak RSS is its own. Prints one JSON line: phase timings and peak RSS.
import { createUpload, NodeFileSource } from "@cleancut/client/node";
import { peakRssMiB } from "./peak-rss.mjs";

const [endpoint, path, segmentSize, concurrency] = process.argv.slice(2);
const source = await NodeFileSource.open(path);
const upload = createUpload(source, {
  endpoint,
  segmentSize: Number(segmentSize),
  concurrency: Number(concurrency),
});
const started = performance.now();
let uploadedAt;
upload.on("progress", (progress) => {
  if (uploadedAt === undefined && progress.bytesSent >= progress.totalBytes) uploadedAt = performance.now();
});
upload.on("state", (state) => {
  if (state === "completing" && uploadedAt === undefined) uploadedAt = performance.now();
});
upload.start();
const video = await upload.done;
const finished = performance.now();
await source.close();
process.stdout.write(
  `${JSON.stringify({
    size: video.size,
    uploadMs: (uploadedAt ?? finished) - started,
    totalMs: finished - started,
    peakRssMiB: await peakRssMiB(process.pid),
  })}\n`,
);
