import {
  type AssembledVideo,
  type ByteRange,
  type PresignedSegmentUpload,
  type Remnant,
  type SegmentSizeLimits,
  type SegmentStore,
  type SegmentWrite,
  StorageUnavailableError,
  type StoredSegment,
  type UploadHandle,
  type VideoStore,
} from "@cleancut/core";

type StoreMethod = Exclude<
  keyof (SegmentStore & VideoStore),
  "kind" | "segmentSizeLimits" | "deletesSegmentsIndividually"
>;

const never = new AbortController().signal;

export type Fault =
  /** The next `times` calls fail (Infinity: until cleared). */
  | { kind: "fail"; times: number; error?: () => Error }
  /** Calls wait `ms` before reaching the real store. */
  | { kind: "delay"; ms: number }
  /** Calls never answer until their signal aborts or the fault is cleared. */
  | { kind: "hang" };

/**
 * Wraps a real store and makes it misbehave on command. The bytes still go to the real store:
 * this is a fault layer, not a fake.
 */
export class FaultInjectingStore implements SegmentStore, VideoStore {
  readonly #faults = new Map<StoreMethod, Fault>();
  readonly #calls = new Map<StoreMethod, number>();
  readonly #releases = new Set<() => void>();

  /** The optional capabilities of the inner store, and only those: a disk store stays without them. */
  readonly presignSegmentUpload?: (
    upload: UploadHandle,
    index: number,
    size: number,
    expiresSeconds: number,
  ) => Promise<PresignedSegmentUpload>;
  readonly statSegment?: (
    upload: UploadHandle,
    index: number,
    signal: AbortSignal,
  ) => Promise<number | undefined>;

  constructor(readonly inner: SegmentStore & VideoStore) {
    const { presignSegmentUpload, statSegment } = inner;
    if (presignSegmentUpload !== undefined) {
      this.presignSegmentUpload = async (upload, index, size, expiresSeconds) => {
        await this.#gate("presignSegmentUpload", never);
        return presignSegmentUpload.call(inner, upload, index, size, expiresSeconds);
      };
    }
    if (statSegment !== undefined) {
      this.statSegment = async (upload, index, signal) => {
        await this.#gate("statSegment", signal);
        return statSegment.call(inner, upload, index, signal);
      };
    }
  }

  get kind(): string {
    return this.inner.kind;
  }
  get segmentSizeLimits(): SegmentSizeLimits {
    return this.inner.segmentSizeLimits;
  }
  get deletesSegmentsIndividually(): boolean {
    return this.inner.deletesSegmentsIndividually;
  }

  inject(method: StoreMethod, fault: Fault): void {
    this.#faults.set(method, { ...fault });
  }

  clear(method?: StoreMethod): void {
    if (method === undefined) this.#faults.clear();
    else this.#faults.delete(method);
    for (const release of this.#releases) release();
    this.#releases.clear();
  }

  calls(method: StoreMethod): number {
    return this.#calls.get(method) ?? 0;
  }

  async #gate(method: StoreMethod, signal: AbortSignal): Promise<void> {
    this.#calls.set(method, this.calls(method) + 1);
    const fault = this.#faults.get(method);
    if (fault === undefined) return;
    switch (fault.kind) {
      case "fail":
        if (fault.times <= 0) return;
        fault.times -= 1;
        throw fault.error?.() ?? new StorageUnavailableError(`injected fault: ${method} failed`);
      case "delay":
        await waitOrAbort(fault.ms, signal, this.#releases);
        return;
      case "hang":
        await waitOrAbort(Number.POSITIVE_INFINITY, signal, this.#releases);
        return;
    }
  }

  async beginUpload(uploadId: string, contentType: string, signal: AbortSignal): Promise<string> {
    await this.#gate("beginUpload", signal);
    return this.inner.beginUpload(uploadId, contentType, signal);
  }
  async writeSegment(
    upload: UploadHandle,
    write: SegmentWrite,
    body: AsyncIterable<Uint8Array>,
    signal: AbortSignal,
  ): Promise<StoredSegment> {
    await this.#gate("writeSegment", signal);
    return this.inner.writeSegment(upload, write, body, signal);
  }
  async listSegments(upload: UploadHandle, signal: AbortSignal): Promise<StoredSegment[]> {
    await this.#gate("listSegments", signal);
    return this.inner.listSegments(upload, signal);
  }
  async deleteSegment(upload: UploadHandle, index: number, signal: AbortSignal): Promise<void> {
    await this.#gate("deleteSegment", signal);
    return this.inner.deleteSegment(upload, index, signal);
  }
  async listRemnants(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[]> {
    await this.#gate("listRemnants", signal);
    return this.inner.listRemnants(upload, signal);
  }
  async discardUpload(upload: UploadHandle, signal: AbortSignal): Promise<void> {
    await this.#gate("discardUpload", signal);
    return this.inner.discardUpload(upload, signal);
  }
  async assemble(
    upload: UploadHandle,
    segments: readonly StoredSegment[],
    videoId: string,
    signal: AbortSignal,
  ): Promise<AssembledVideo> {
    await this.#gate("assemble", signal);
    return this.inner.assemble(upload, segments, videoId, signal);
  }
  async statVideo(key: string, signal: AbortSignal): Promise<number | undefined> {
    await this.#gate("statVideo", signal);
    return this.inner.statVideo(key, signal);
  }
  async readVideo(
    key: string,
    range: ByteRange | undefined,
    signal: AbortSignal,
  ): Promise<AsyncIterable<Uint8Array>> {
    await this.#gate("readVideo", signal);
    return this.inner.readVideo(key, range, signal);
  }
  probeLocation(key: string): string {
    return this.inner.probeLocation(key);
  }
  async deleteVideo(key: string, signal: AbortSignal): Promise<void> {
    await this.#gate("deleteVideo", signal);
    return this.inner.deleteVideo(key, signal);
  }
}

function waitOrAbort(ms: number, signal: AbortSignal, releases: Set<() => void>): Promise<void> {
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const finish = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      releases.delete(finish);
      resolve();
    };
    const onAbort = () => {
      clearTimeout(timer);
      releases.delete(finish);
      reject(signal.reason);
    };
    const timer = Number.isFinite(ms) ? setTimeout(finish, ms) : undefined;
    releases.add(finish);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
