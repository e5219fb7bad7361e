import { createUpload } from "@cleancut/client/node";

/** Deletes a finished video through the API (its upload's token). */
export async function deleteVideo(endpoint, videoId, token) {
  const response = await fetch(new URL(`/v1/videos/${videoId}`, endpoint), {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status !== 204) throw new Error(`DELETE video ${videoId}: ${response.status}`);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/**
 * One upload cancelled at `fraction` of its progress (`"create"`: right after start()). The
 * fraction is of bytes in stored segments; the other segments in flight are mid-PUT. Returns the
 * cancel → report time, what was in flight and the report; a cancel that lost the race to a
 * complete deletes the video the client saw finished.
 */
export async function cancelOnce({ url, mode }, source, segment, fraction, concurrency = 4) {
  const upload = createUpload(source, { endpoint: url, segmentSize: segment, concurrency, mode });
  upload.start();
  upload.done.catch(() => {});
  if (fraction !== "create") {
    const target = fraction * source.size;
    const deadline = Date.now() + 60_000;
    while (
      (upload.state === "creating" || upload.state === "uploading") &&
      (upload.bytesSent < target || upload.bytesSent === 0) &&
      Date.now() < deadline
    ) {
      await tick();
    }
  }
  const at = { phase: upload.state, inFlight: upload.activeRequests, bytesSent: upload.bytesSent };
  const started = performance.now();
  try {
    const report = await upload.cancel();
    return { ...at, ms: performance.now() - started, id: report.id || upload.id, report };
  } catch (error) {
    if (error?.name === "UploadCompletedError") {
      const video = await upload.done;
      await deleteVideo(url, video.videoId, upload.token);
      return { ...at, ms: performance.now() - started, id: upload.id, completedFirst: true };
    }
    return { ...at, ms: performance.now() - started, id: upload.id, error: String(error) };
  } finally {
    await source.close().catch(() => {});
  }
}
