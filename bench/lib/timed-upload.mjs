import { startWindow } from "./machine-cpu.mjs";

/**
 * Runs a created Upload to its end and times it: until every segment was stored (progress at
 * 100 % or the switch to `completing`, whichever comes first) and until complete answered;
 * `cpuS`: the machine's busy CPU-seconds until then (see machine-cpu.mjs).
 */
export async function timedUpload(upload) {
  const window = startWindow();
  const started = performance.now();
  let uploadedAt;
  const stored = () => {
    uploadedAt ??= performance.now();
  };
  upload.on("progress", (progress) => {
    if (progress.bytesSent >= progress.totalBytes) stored();
  });
  upload.on("state", (state) => {
    if (state === "completing") stored();
  });
  upload.start();
  const video = await upload.done;
  const finished = performance.now();
  const { cpuS } = window();
  return { video, uploadMs: (uploadedAt ?? finished) - started, totalMs: finished - started, cpuS };
}
