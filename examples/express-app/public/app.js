// The app's page: asks the app's backend for an upload, shows cleancut's page for it in an
// iframe, and keeps "My videos" fresh from the app's own table (which cleancut's webhooks fill).

const form = document.getElementById("new-upload");
const status = document.getElementById("new-status");
const uploader = document.getElementById("uploader");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("new-file").files[0];
  const title = document.getElementById("new-title").value;
  status.textContent = "Creating the upload…";
  const response = await fetch("/api/uploads", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      title,
      filename: file.name,
      size: file.size,
      contentType: file.type || "video/mp4",
    }),
  });
  const body = await response.json();
  if (!response.ok) {
    status.textContent = `Could not create the upload: ${body.error}`;
    return;
  }
  // cleancut's page, for this one upload: it asks for the file (the one just chosen) and sends it.
  status.textContent = `Now pick ${file.name} again below to send it.`;
  uploader.src = body.uploaderUrl;
  uploader.hidden = false;
  form.reset();
});

async function refresh() {
  const response = await fetch("/api/videos");
  if (!response.ok) return;
  const { videos, notes } = await response.json();
  document.getElementById("empty").hidden = videos.length > 0;
  document.getElementById("videos").replaceChildren(...videos.map(videoItem));
  document.getElementById("notes").replaceChildren(...notes.map(noteItem));
}

function videoItem(video) {
  const item = document.createElement("li");
  item.dataset.uploadId = video.uploadId;
  item.dataset.state = video.state;
  const title = document.createElement("strong");
  title.textContent = video.title;
  item.append(title, " ");
  if (video.state === "completed") {
    const link = document.createElement("a");
    link.href = video.playUrl;
    link.textContent = "play";
    item.append(link);
  } else {
    item.append(`(${video.state}…)`);
  }
  return item;
}

function noteItem(note) {
  const item = document.createElement("li");
  item.className = "note";
  item.dataset.uploadId = note.uploadId;
  item.dataset.verified = String(note.verified);
  item.dataset.deletedSegments = String(note.deletedSegments);
  const how =
    note.type === "upload.cancelled" ? "Cancelled" : note.type === "upload.expired" ? "Expired" : "Failed";
  item.textContent =
    `${how}: “${note.title}” — ${note.deletedSegments} segment(s) deleted, ` +
    (note.verified ? "storage verified empty." : "storage not verified yet.");
  return item;
}

refresh();
setInterval(refresh, 1000);
