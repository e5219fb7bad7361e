import { createHash, type Hash } from "node:crypto";
import { type HashedPrefix, hashedPrefixOf } from "./ordered-segment-hasher.js";

/** One segment write's bytes, offered to the video's hash as they stream through the server. */
export interface SegmentTap {
  /** Bytes of the segment, in order. */
  push(chunk: Uint8Array): void;
  /** The segment is stored with these bytes (SHA-256 as stored). */
  stored(sha256: string): void;
  /** The write failed or was cut off: none of its bytes count. */
  failed(): void;
}

interface Write {
  index: number;
  /** Feeding the upload's hash directly (it is the next segment in order). */
  live: boolean;
  /** The hash as it was before a live write's first byte, to go back to if it fails. */
  before: Hash | undefined;
  bytes: number;
  /** A write ahead of the order keeps copies of its bytes until its turn comes. */
  chunks: Buffer[];
  ended: boolean;
  /** Set once stored: the SHA-256 of the bytes kept. */
  sha256?: string;
}

interface UploadState {
  hash: Hash;
  bytes: number;
  /** SHA-256 of each segment fed to `hash`, by index from 0. */
  hashed: string[];
  /** Writes in progress, and stored ones ahead of the order waiting for their turn. */
  writes: Set<Write>;
  /** Bytes its writes ahead of the order hold. */
  buffered: number;
  /** Gave up (over the memory budget, or a segment already hashed was replaced). */
  broken: boolean;
}

const noTap: SegmentTap = { push() {}, stored() {}, failed() {} };

/**
 * The video's SHA-256 from the bytes as they pass through the server on their way to a store
 * that cannot be read back cheaply (S3: reading the joined object back to hash it costs as
 * much as writing it, and the client waits for it at `complete`). Segments arrive out of
 * order, a few at once: the one that is next in order feeds the hash as it streams; one
 * ahead of it keeps a copy of its bytes until its turn (bounded per upload and over all
 * uploads; an upload that would pass either bound is given up on). A write that fails is
 * taken back out.
 * `prefix` then answers only when every segment being joined was hashed with exactly the
 * bytes stored; otherwise (a restart, another instance took some writes, a budget overrun)
 * the caller hashes the stored video as before.
 */
export class StreamedVideoHasher {
  readonly #uploads = new Map<string, UploadState>();
  #buffered = 0;

  constructor(
    /** Over all uploads. */
    private readonly maxBufferedBytes = 128 * 1024 * 1024,
    /**
     * Per upload: a few segments in flight at the usual sizes. An upload whose next segment
     * never comes (it was stored before a restart, or through another instance) reaches
     * this and is given up on, rather than holding the rest of it.
     */
    private readonly maxBufferedPerUpload = 48 * 1024 * 1024,
    /** Uploads tracked at once; the oldest is dropped past this. */
    private readonly maxUploads = 512,
  ) {}

  /** Bytes held for writes ahead of the order, over all uploads (the tests check it returns to 0). */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  tap(uploadId: string, index: number): SegmentTap {
    const state = this.#stateOf(uploadId);
    if (state.broken) return noTap;
    const write: Write = { index, live: false, before: undefined, bytes: 0, chunks: [], ended: false };
    state.writes.add(write);
    this.#advance(state);
    return {
      push: (chunk) => {
        if (state.broken || write.ended) return;
        if (write.live) {
          state.hash.update(chunk);
          write.bytes += chunk.byteLength;
          return;
        }
        if (
          this.#buffered + chunk.byteLength > this.maxBufferedBytes ||
          state.buffered + chunk.byteLength > this.maxBufferedPerUpload
        ) {
          this.#giveUp(state);
          return;
        }
        // A copy: the caller may reuse its buffer once the chunk went on.
        write.chunks.push(Buffer.from(chunk));
        write.bytes += chunk.byteLength;
        this.#buffered += chunk.byteLength;
        state.buffered += chunk.byteLength;
      },
      stored: (sha256) => {
        if (state.broken || write.ended) return;
        write.ended = true;
        if (write.live) {
          state.writes.delete(write);
          state.bytes += write.bytes;
          state.hashed.push(sha256);
          // Another write of this index still streaming was a duplicate: drop it.
          this.#dropWritesOf(state, write.index);
        } else if (index < state.hashed.length) {
          // A segment already hashed was stored again: the same bytes change nothing.
          this.#release(state, write);
          if (state.hashed[index] !== sha256) this.#giveUp(state);
        } else {
          // Stored ahead of the order: the newest version of an index is the one kept.
          for (const other of state.writes) {
            if (other !== write && other.index === index && other.ended) this.#release(state, other);
          }
          write.sha256 = sha256;
        }
        this.#advance(state);
      },
      failed: () => {
        if (state.broken || write.ended) return;
        write.ended = true;
        if (write.live && write.before !== undefined) state.hash = write.before;
        this.#release(state, write);
        this.#advance(state);
      },
    };
  }

  /** A copy of the hash over the longest prefix of `segments` hashed, as `OrderedSegmentHasher.prefix`. */
  prefix(uploadId: string, segments: readonly { index: number; sha256: string }[]): HashedPrefix | undefined {
    const state = this.#uploads.get(uploadId);
    if (state === undefined || state.broken) return undefined;
    return hashedPrefixOf(state, segments);
  }

  /** The upload is finished or gone: its buffers are freed. */
  forget(uploadId: string): void {
    const state = this.#uploads.get(uploadId);
    if (state === undefined) return;
    this.#uploads.delete(uploadId);
    this.#giveUp(state);
  }

  #stateOf(uploadId: string): UploadState {
    const known = this.#uploads.get(uploadId);
    if (known !== undefined) return known;
    if (this.#uploads.size >= this.maxUploads) {
      const oldest = this.#uploads.keys().next().value;
      if (oldest !== undefined) this.forget(oldest);
    }
    const state: UploadState = {
      hash: createHash("sha256"),
      bytes: 0,
      hashed: [],
      writes: new Set(),
      buffered: 0,
      broken: false,
    };
    this.#uploads.set(uploadId, state);
    return state;
  }

  /** Feeds every segment whose turn has come; the write of the next one goes live. */
  #advance(state: UploadState): void {
    for (;;) {
      if (state.broken) return;
      const next = state.hashed.length;
      const candidates = [...state.writes].filter((write) => write.index === next);
      if (candidates.some((write) => write.live)) return;
      const stored = candidates.find((write) => write.ended);
      if (stored?.sha256 !== undefined) {
        for (const chunk of stored.chunks) state.hash.update(chunk);
        state.bytes += stored.bytes;
        state.hashed.push(stored.sha256);
        this.#release(state, stored);
        this.#dropWritesOf(state, next);
        continue;
      }
      // The oldest write of the next index still streaming catches up and goes live.
      const streaming = candidates.find((write) => !write.ended);
      if (streaming === undefined) return;
      streaming.before = state.hash.copy();
      for (const chunk of streaming.chunks) state.hash.update(chunk);
      this.#buffered -= streaming.bytes;
      state.buffered -= streaming.bytes;
      streaming.chunks = [];
      streaming.live = true;
      return;
    }
  }

  /** Writes of an index already hashed: a duplicate still streaming counts for nothing. */
  #dropWritesOf(state: UploadState, index: number): void {
    for (const write of state.writes) {
      if (write.index !== index) continue;
      write.ended = true;
      this.#release(state, write);
    }
  }

  #release(state: UploadState, write: Write): void {
    state.writes.delete(write);
    if (!write.live) {
      this.#buffered -= write.bytes;
      state.buffered -= write.bytes;
    }
    write.chunks = [];
    write.bytes = 0;
  }

  #giveUp(state: UploadState): void {
    state.broken = true;
    for (const write of state.writes) {
      write.ended = true;
      this.#release(state, write);
    }
  }
}
