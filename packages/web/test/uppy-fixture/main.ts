import Uppy from "@uppy/core";
import Tus from "@uppy/tus";

/** What the test reads back: Uppy's events in order, with the tus URL as Uppy knew it then. */
export type FixtureEvent =
  | { type: "upload-progress"; fileId: string; bytesUploaded: number; uploadUrl: string | undefined }
  | { type: "upload-success"; fileId: string; uploadURL: string | undefined }
  | { type: "upload-error"; fileId: string | undefined; message: string; status: number | undefined }
  | { type: "cancel-all" }
  | { type: "file-removed"; fileId: string; uploadUrl: string | undefined }
  | { type: "csp-violation"; directive: string; blockedURI: string };

declare global {
  interface Window {
    uppy: Uppy;
    events: FixtureEvent[];
  }
}

const events: FixtureEvent[] = [];
// Same origin as the page: no CORS involved, and the page's CSP `connect-src 'self'` applies.
const uppy = new Uppy({ autoProceed: false }).use(Tus, { endpoint: "/files/", retryDelays: [0, 500] });

/** The URL lives in the file's state, which is gone once the file is removed: read it while it is there. */
const uploadUrlOf = (fileId: string): string | undefined => uppy.getFile(fileId)?.tus?.uploadUrl ?? undefined;

uppy.on("upload-progress", (file, progress) => {
  if (file === undefined) return;
  events.push({
    type: "upload-progress",
    fileId: file.id,
    bytesUploaded: progress.bytesUploaded,
    uploadUrl: uploadUrlOf(file.id),
  });
});
uppy.on("upload-success", (file, response) => {
  events.push({ type: "upload-success", fileId: file?.id ?? "", uploadURL: response.uploadURL });
});
uppy.on("upload-error", (file, error, response) => {
  events.push({ type: "upload-error", fileId: file?.id, message: error.message, status: response?.status });
});
uppy.on("cancel-all", () => {
  events.push({ type: "cancel-all" });
});
uppy.on("file-removed", (file) => {
  events.push({ type: "file-removed", fileId: file.id, uploadUrl: file.tus?.uploadUrl ?? undefined });
});
// Anything of Uppy's the server's Content-Security-Policy blocks shows up here.
document.addEventListener("securitypolicyviolation", (event) => {
  events.push({ type: "csp-violation", directive: event.violatedDirective, blockedURI: event.blockedURI });
});

const input = document.getElementById("file") as HTMLInputElement;
input.addEventListener("change", () => {
  for (const file of Array.from(input.files ?? []))
    uppy.addFile({ name: file.name, type: file.type, data: file });
  document.documentElement.dataset.files = String(uppy.getFiles().length);
});

window.uppy = uppy;
window.events = events;
document.documentElement.dataset.ready = "true";
