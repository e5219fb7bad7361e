/**
 * Recognises a video container from its first bytes. A cheap first gate before ffprobe
 * (and the only one where ffprobe is not installed).
 */
export function sniffContainer(head: Uint8Array): string | undefined {
  const ascii = (start: number, end: number) => String.fromCharCode(...head.subarray(start, end));
  const startsWith = (bytes: number[]) => bytes.every((byte, i) => head[i] === byte);
  if (head.length >= 12) {
    const box = ascii(4, 8);
    if (box === "ftyp") {
      const brand = ascii(8, 12);
      return brand === "qt  " ? "mov" : "mp4";
    }
    if (box === "moov" || box === "mdat" || box === "wide" || box === "free" || box === "skip") return "mov";
    if (ascii(0, 4) === "RIFF" && ascii(8, 12) === "AVI ") return "avi";
  }
  if (startsWith([0x1a, 0x45, 0xdf, 0xa3])) return "matroska";
  if (startsWith([0x30, 0x26, 0xb2, 0x75, 0x8e, 0x66, 0xcf, 0x11])) return "asf";
  if (startsWith([0x00, 0x00, 0x01, 0xba])) return "mpeg-ps";
  if (head.length >= 3 && ascii(0, 3) === "FLV") return "flv";
  if (head.length >= 4 && ascii(0, 4) === "OggS") return "ogg";
  if (head[0] === 0x47 && (head.length < 189 || head[188] === 0x47)) return "mpeg-ts";
  return undefined;
}
