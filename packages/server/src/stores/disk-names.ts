/**
 * File names inside an upload's folder on disk. A segment's SHA-256 is part of its name, so
 * listing the folder tells size and hash without reading a byte, and the name appears
 * atomically with the bytes (rename).
 */
const segmentName = /^(\d{6,9})\.([0-9a-f]{64})\.seg$/;

export function segmentFileName(index: number, sha256: string): string {
  return `${String(index).padStart(6, "0")}.${sha256}.seg`;
}

export function parseSegmentFileName(name: string): { index: number; sha256: string } | undefined {
  const match = segmentName.exec(name);
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined;
  return { index: Number(match[1]), sha256: match[2] };
}

export function isSegmentFileForIndex(name: string, index: number): boolean {
  return parseSegmentFileName(name)?.index === index;
}

/** Temp names start with a dot: never listed as segments, always found by the remnant check. */
export function tempFileName(purpose: string, random: string): string {
  return `.${purpose}-${random}.tmp`;
}

/**
 * The one partial segment of an upload. A fixed name, so writing a new one is a single rename
 * over the old one whatever its index: a reader never finds two, nor none in between. Its
 * index is therefore kept in the file's first line (see `partialSegmentHeader`). The name is
 * neither a segment name nor a dot-temp name, so listings tell it apart from both.
 */
export const partialSegmentFileName = "partial.part";

const partialHeader = /^cleancut-partial-segment (\d{1,9})\n/;
/** Longest header `partialSegmentHeader` writes. */
const partialSegmentHeaderMaxBytes = 40;

export function partialSegmentHeader(index: number): Buffer {
  return Buffer.from(`cleancut-partial-segment ${index}\n`, "latin1");
}

/** The index and where the bytes start, or undefined when the file does not start with a header. */
export function parsePartialSegmentHeader(file: Uint8Array): { index: number; offset: number } | undefined {
  const head = Buffer.from(file.buffer, file.byteOffset, Math.min(file.length, partialSegmentHeaderMaxBytes));
  const match = partialHeader.exec(head.toString("latin1"));
  if (match === null || match[1] === undefined) return undefined;
  return { index: Number(match[1]), offset: match[0].length };
}
