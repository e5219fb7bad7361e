import {
  BodyIncompleteError,
  InvalidSegmentSizeError,
  isCleancutError,
  SegmentsMissingError,
  type SegmentWrite,
  StorageUnavailableError,
} from "@cleancut/core";

/**
 * NoSuchUpload: the multipart upload is gone. Swift's s3api answers NoSuchKey instead when the
 * upload was completed into an object.
 */
export function isUploadGone(error: unknown): boolean {
  const name = errorName(error);
  return name === "NoSuchUpload" || name === "NoSuchKey";
}

export function errorName(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { name, Code } = error as { name?: unknown; Code?: unknown };
  if (typeof Code === "string") return Code;
  return typeof name === "string" ? name : undefined;
}

/** S3 failures become CleancutErrors; the SDK error stays as the cause. */
export function mapS3Error(error: unknown, what: string): unknown {
  if (isCleancutError(error)) return error;
  const name = errorName(error);
  const message = error instanceof Error ? error.message : String(error);
  if (name === "EntityTooSmall") {
    return new InvalidSegmentSizeError(`${what}: a part other than the last is under S3's 5 MiB minimum`, {
      cause: error,
    });
  }
  if (name === "InvalidPart" || name === "InvalidPartOrder") {
    return new SegmentsMissingError(`${what}: ${message}`, { cause: error });
  }
  if (name === "NoSuchUpload") {
    return new StorageUnavailableError(`${what}: the multipart upload no longer exists (discarded)`, {
      cause: error,
      details: { s3Error: name },
    });
  }
  return new StorageUnavailableError(`${what} failed: ${name ?? "error"}: ${message}`, {
    cause: error,
    ...(name === undefined ? {} : { details: { s3Error: name } }),
  });
}

/** What a failed S3 request throws: the cancel's reason once `signal` aborted, else the mapped error. */
export function s3Failure(error: unknown, signal: AbortSignal, what: string): unknown {
  if (signal.aborted) return signal.reason ?? error;
  return mapS3Error(error, what);
}

/** Runs one S3 request, throwing its failure as `s3Failure` reports it. */
export async function callS3<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw s3Failure(error, signal, "S3 request");
  }
}

/** Like the disk store: a cancel is reported as its reason, a cut body as incomplete. */
export function normalizeBodyError(
  error: unknown,
  signal: AbortSignal,
  write: SegmentWrite,
  received: number,
): unknown {
  if (signal.aborted) return signal.reason ?? error;
  if (isCleancutError(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ECONNRESET" || code === "ERR_STREAM_PREMATURE_CLOSE" || code === "ABORT_ERR") {
    return new BodyIncompleteError(
      `segment ${write.index} was cut off after ${received} of ${write.size} bytes`,
      {
        cause: error,
        details: { expected: write.size, received },
      },
    );
  }
  return error;
}

/**
 * `Promise.all` that settles only once every call has: the first failure is thrown after the
 * others finished, so a store method that fails leaves none of its requests still in flight
 * (a cleanup attempt retried after it, or its verification listing, never overlaps them).
 */
export async function allSettledOrThrow<T extends readonly unknown[] | []>(
  calls: T,
): Promise<{ -readonly [P in keyof T]: Awaited<T[P]> }> {
  const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled(calls as readonly unknown[]);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as {
    -readonly [P in keyof T]: Awaited<T[P]>;
  };
}
