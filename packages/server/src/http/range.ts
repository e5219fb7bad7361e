import { type ByteRange, RangeNotSatisfiableError } from "@cleancut/core";

/**
 * Parses a single-range `Range: bytes=…` header against a size. Undefined means "send it
 * all" (no header, or a form we do not serve such as several ranges, which RFC 9110 lets a
 * server ignore); an unsatisfiable range throws.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first = "", last = ""] = match;
  let start: number;
  let end: number;
  if (first === "" && last === "") return undefined;
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  }
  if (start >= size || start > end) throw unsatisfiable(size);
  return { start, end };
}

function unsatisfiable(size: number): RangeNotSatisfiableError {
  return new RangeNotSatisfiableError(`the range is outside the video's ${size} bytes`, {
    details: { size },
  });
}
