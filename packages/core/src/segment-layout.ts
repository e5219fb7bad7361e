/**
 * How a file of `size` bytes is cut: every segment is exactly `segmentSize` bytes except
 * the last, which holds the rest. Client and server both use this so they can never disagree.
 */
export interface SegmentLayout {
  readonly size: number;
  readonly segmentSize: number;
  readonly segmentCount: number;
}

export function segmentLayout(size: number, segmentSize: number): SegmentLayout {
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new RangeError(`size must be a positive integer, got ${size}`);
  if (!Number.isSafeInteger(segmentSize) || segmentSize <= 0) {
    throw new RangeError(`segmentSize must be a positive integer, got ${segmentSize}`);
  }
  return { size, segmentSize, segmentCount: Math.ceil(size / segmentSize) };
}

export function segmentByteSize(layout: SegmentLayout, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= layout.segmentCount) {
    throw new RangeError(`segment index ${index} is outside 0..${layout.segmentCount - 1}`);
  }
  const start = index * layout.segmentSize;
  return Math.min(layout.segmentSize, layout.size - start);
}

export function segmentOffset(layout: SegmentLayout, index: number): number {
  return index * layout.segmentSize;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
