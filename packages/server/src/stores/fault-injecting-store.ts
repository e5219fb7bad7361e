import type {
  AssembledVideo,
  ByteRange,
  PartialSegment,
  PresignedSegmentUpload,
  Remnant,
  SegmentSizeLimits,
  SegmentStore,
  SegmentWrite,
  StoredEntry,
  StoredSegment,
  UploadHandle,
  VideoStore,
} from "@cleancut/core";
import { type Fault, FaultGate, storageFailure } from "../faults/fault-gate.js";
import { neverAborts } from "../never-aborts.js";

export type { Fault };

type StoreMethod = Exclude<
  keyof (SegmentStore & VideoStore),
  "kind" | "segmentSizeLimits" | "deletesSegmentsIndividually"
>;

/**
 * Wraps a real store and makes it misbehave on command. The bytes still go to the real store:
 * this is a fault layer, not a fake.
 */
export class FaultInjectingStore implements SegmentStore, VideoStore {
  readonly #faults = new FaultGate<StoreMethod>(storageFailure);

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
        await this.#gate("presignSegmentUpload", neverAborts);
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
    this.#faults.inject(method, fault);
  }

  /** Removes one fault (or all) and lets every delayed or hanging call go on. */
  clear(method?: StoreMethod): void {
    this.#faults.clear(method);
  }

  calls(method: StoreMethod): number {
    return this.#faults.calls(method);
  }

  #gate(method: StoreMethod, signal: AbortSignal): Promise<void> {
    return this.#faults.pass(method, signal);
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
  async savePartialSegment(
    upload: UploadHandle,
    index: number,
    bytes: Uint8Array,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#gate("savePartialSegment", signal);
    return this.inner.savePartialSegment(upload, index, bytes, signal);
  }
  async loadPartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<PartialSegment | undefined> {
    await this.#gate("loadPartialSegment", signal);
    return this.inner.loadPartialSegment(upload, signal);
  }
  async deletePartialSegment(upload: UploadHandle, signal: AbortSignal): Promise<void> {
    await this.#gate("deletePartialSegment", signal);
    return this.inner.deletePartialSegment(upload, signal);
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
  async discardUpload(upload: UploadHandle, signal: AbortSignal): Promise<Remnant[] | undefined> {
    await this.#gate("discardUpload", signal);
    return this.inner.discardUpload(upload, signal);
  }
  async listStoredEntries(signal: AbortSignal): Promise<StoredEntry[]> {
    await this.#gate("listStoredEntries", signal);
    return this.inner.listStoredEntries(signal);
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
