import {
  InvalidRequestError,
  InvalidSegmentIndexError,
  SegmentIndexOutOfRangeError,
  SegmentSizeMismatchError,
  segmentByteSize,
  segmentLayout,
  UploadCancelledError,
  UploadCompletedError,
  type UploadRecord,
} from "@cleancut/core";

/** Parses a path index: digits only, within the upload's segment count. */
export function parseSegmentIndex(raw: string, record: UploadRecord): number {
  if (!/^\d{1,9}$/.test(raw)) {
    throw new InvalidSegmentIndexError(
      `segment index must be a non-negative integer, got ${JSON.stringify(raw.slice(0, 32))}`,
    );
  }
  const index = Number(raw);
  if (index >= record.segmentCount) {
    throw new SegmentIndexOutOfRangeError(
      `segment index ${index} is out of range: the upload has ${record.segmentCount} segments (0..${record.segmentCount - 1})`,
      {
        details: { index, segmentCount: record.segmentCount },
      },
    );
  }
  return index;
}

export function expectedSegmentSize(record: UploadRecord, index: number): number {
  return segmentByteSize(segmentLayout(record.size, record.segmentSize), index);
}

/** Refuses at once a body whose declared length is not the segment's size. */
export function checkDeclaredLength(header: string | undefined, expected: number, index: number): void {
  if (header === undefined) return;
  const declared = Number(header);
  if (!Number.isSafeInteger(declared) || declared !== expected) {
    throw new SegmentSizeMismatchError(
      `segment ${index} must be exactly ${expected} bytes, Content-Length says ${header}`,
      {
        details: { expected, declared: header },
      },
    );
  }
}

/**
 * Reads the SHA-256 from an RFC 9530 `Content-Digest` header (`sha-256=:<base64>:`), as hex.
 * Other algorithms in the header are ignored; a malformed sha-256 entry is refused.
 */
export function parseContentDigest(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const entry of header.split(",")) {
    const [name, ...rest] = entry.trim().split("=");
    if (name?.toLowerCase() !== "sha-256") continue;
    const value = /^:([A-Za-z0-9+/]{43}=):$/.exec(rest.join("="));
    if (value?.[1] === undefined) {
      throw new InvalidRequestError("Content-Digest sha-256 must be `sha-256=:<base64 of 32 bytes>:`");
    }
    return Buffer.from(value[1], "base64").toString("hex");
  }
  return undefined;
}

/** Only an upload that is still uploading takes (or drops) segments. */
export function assertAcceptsSegments(record: UploadRecord, now: number = Date.now()): void {
  switch (record.state) {
    case "uploading":
      if (now >= record.expiresAt) throw new UploadCancelledError(`upload ${record.id} expired`);
      return;
    case "completing":
    case "completed":
      throw new UploadCompletedError(`upload ${record.id} is ${record.state}; it takes no more segments`);
    case "cancelling":
    case "cancelled":
    case "failed":
      throw new UploadCancelledError(`upload ${record.id} was cancelled; it takes no more segments`);
  }
}
