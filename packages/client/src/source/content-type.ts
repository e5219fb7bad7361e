const byExtension: Record<string, string> = {
  mp4: "video/mp4",
  m4v: "video/mp4",
  mov: "video/quicktime",
  webm: "video/webm",
  mkv: "video/x-matroska",
  ogv: "video/ogg",
  avi: "video/x-msvideo",
  ts: "video/mp2t",
};

/** A guess from the file name, for sources that do not know their type (a path on disk). */
export function contentTypeFor(name: string): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toLowerCase();
  return (extension === undefined ? undefined : byExtension[extension]) ?? "application/octet-stream";
}
