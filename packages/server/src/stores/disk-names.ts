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
