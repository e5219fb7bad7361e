// Built by Vite in the tarball check: the browser SDK as an npm user gets it. The API endpoint
// comes in the query (?endpoint=…); results land on #result as data-* attributes.
import { BlobSource, createUpload } from "@cleancut/client";

const endpoint = new URLSearchParams(location.search).get("endpoint");
const input = document.querySelector("#file");
const result = document.querySelector("#result");
let upload;

function show(state, data = {}) {
  result.dataset.state = state;
  Object.assign(result.dataset, data);
  result.textContent = `${state} ${JSON.stringify(data)}`;
}

document.querySelector("#upload").addEventListener("click", () => {
  // Small segments, one at a time: a big file is still uploading when Cancel is clicked.
  upload = createUpload(new BlobSource(input.files[0]), {
    endpoint,
    segmentSize: 1024 * 1024,
    concurrency: 1,
  });
  upload.start();
  show("uploading");
  upload.done.then(
    (video) => show("done", { videoId: video.videoId }),
    (error) => {
      if (result.dataset.state === "uploading") show("failed", { error: String(error) });
    },
  );
});

document.querySelector("#cancel").addEventListener("click", () => {
  show("cancelling");
  upload.cancel().then(
    (report) => show("cancelled", { verified: report.verified, deletedSegments: report.deletedSegments }),
    (error) => show("failed", { error: String(error) }),
  );
});
