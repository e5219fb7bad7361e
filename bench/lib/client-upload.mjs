// One upload through @cleancut/client (Node entry, undici), run as its own process so its
// peak RSS is its own. Prints one JSON line: phase timings, peak RSS, and what it made (so the
// caller can delete the video).
import { createUpload, NodeFileSource } from "@cleancut/client/node";
import { peakRssMiB } from "./peak-rss.mjs";
import { timedUpload } from "./timed-upload.mjs";

const [endpoint, path, segmentSize, concurrency, mode = "proxy"] = process.argv.slice(2);
const source = await NodeFileSource.open(path);
const upload = createUpload(source, {
  endpoint,
  segmentSize: Number(segmentSize),
  concurrency: Number(concurrency),
  mode,
});
const { video, uploadMs, totalMs, cpuS } = await timedUpload(upload);
await source.close();
process.stdout.write(
  `${JSON.stringify({
    size: video.size,
    uploadMs,
    totalMs,
    cpuS,
    peakRssMiB: await peakRssMiB(process.pid),
    videoId: video.videoId,
    token: upload.token,
  })}\n`,
);
