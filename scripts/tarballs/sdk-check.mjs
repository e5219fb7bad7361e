// Copied into the tarball project and run there: the Node SDK as an npm user gets it.
// argv: endpoint, a small video to upload to completion, a big file to cancel mid-way.
// Prints one JSON line: the completed video and the cancel report.
import { stat } from "node:fs/promises";
import { createUpload, NodeFileSource } from "@cleancut/client/node";

const [endpoint, small, big] = process.argv.slice(2);

const done = createUpload(await NodeFileSource.open(small), { endpoint, concurrency: 4 });
done.start();
const video = await done.done;
if (video.size !== (await stat(small)).size)
  throw new Error(`completed size ${video.size} is not the file's`);

const up = createUpload(await NodeFileSource.open(big), { endpoint, concurrency: 1 });
// Cancel mid-way, once a segment is stored: the cancel then has stored bytes to delete and verify.
const cancelled = new Promise((resolve, reject) => {
  const off = up.on("progress", () => {
    if (up.segmentsDone < 1) return;
    off();
    up.cancel().then(resolve, reject);
  });
});
up.start();
up.done.catch(() => {}); // a cancelled upload's `done` rejects; the report is what counts
const report = await cancelled;
if (report.deletedSegments < 1) throw new Error(`the cancel deleted no segment: ${JSON.stringify(report)}`);
console.log(JSON.stringify({ video, report }));
