import { createHash, type Hash } from "node:crypto";

/** Feeds one stored segment's bytes, in order, to `update`. */
export type SegmentReader = (
  uploadId: string,
  index: number,
  sha256: string,
  update: (chunk: Uint8Array) => void,
  signal: AbortSignal,
) => Promise<void>;

/** The whole-video hash over the first `count` segments, ready to be continued. */
export interface HashedPrefix {
  hash: Hash;
  bytes: number;
  count: number;
}

interface UploadState {
  /** Segment index → SHA-256 of the version stored now. */
  stored: Map<number, string>;
  hash: Hash;
  bytes: number;
  /** SHA-256 of each segment already fed to `hash`, by index from 0. */
  hashed: string[];
  /** Bumped when `hash` is started over: a pass that began before stops counting. */
  generation: number;
  running: Promise<void> | undefined;
  again: boolean;
  /** Stops a pass's read when the upload is forgotten (its files are about to go). */
  lifetime: AbortController;
}

/**
 * The video's SHA-256 is over all its bytes in order, so it cannot be put together from the
 * segments' own hashes; computed at `complete` it costs a read of every byte while the client
 * waits (~0.9 s per GiB here). This hashes each upload's segments in index order while the
 * upload goes on, from the stored files (still in the page cache), whenever the next one in
 * order has arrived; `complete` then continues from the prefix already hashed. A segment file
 * is never changed once stored (a new version is a new file, named by its own SHA-256), so a
 * prefix whose segment hashes match the ones being joined is over exactly the joined bytes.
 * In memory only: after a restart, or for an upload it lost track of, `complete` hashes it all.
 */
export class OrderedSegmentHasher {
  readonly #uploads = new Map<string, UploadState>();

  constructor(
    private readonly read: SegmentReader,
    /** Uploads tracked at once; the oldest is dropped past this (its complete hashes in full). */
    private readonly maxUploads = 512,
  ) {}

  /** Segment `index` is stored now with these bytes. */
  stored(uploadId: string, index: number, sha256: string): void {
    const state = this.#stateOf(uploadId);
    const previous = state.stored.get(index);
    state.stored.set(index, sha256);
    if (previous !== undefined && previous !== sha256 && index < state.hashed.length) startOver(state);
    this.#kick(uploadId, state);
  }

  /** Segment `index` is gone. */
  removed(uploadId: string, index: number): void {
    const state = this.#uploads.get(uploadId);
    if (state === undefined) return;
    state.stored.delete(index);
    if (index < state.hashed.length) {
      startOver(state);
      this.#kick(uploadId, state);
    }
  }

  /**
   * The upload is finished or gone. Resolves once no pass reads its files any more, so a
   * cleanup that lists the upload's files next finds none of them held open.
   */
  async forget(uploadId: string): Promise<void> {
    const state = this.#uploads.get(uploadId);
    if (state === undefined) return;
    this.#uploads.delete(uploadId);
    state.stored.clear();
    startOver(state);
    state.lifetime.abort();
    await state.running;
  }

  /**
   * Once the pass in progress is done: a copy of the hash over the longest prefix of
   * `segments` already hashed, or undefined when none is (or it does not match them).
   */
  async prefix(
    uploadId: string,
    segments: readonly { index: number; sha256: string }[],
  ): Promise<HashedPrefix | undefined> {
    const state = this.#uploads.get(uploadId);
    if (state === undefined) return undefined;
    await state.running;
    return hashedPrefixOf(state, segments);
  }

  #stateOf(uploadId: string): UploadState {
    const known = this.#uploads.get(uploadId);
    if (known !== undefined) return known;
    if (this.#uploads.size >= this.maxUploads) {
      const oldest = this.#uploads.keys().next().value;
      if (oldest !== undefined) void this.forget(oldest);
    }
    const state: UploadState = {
      stored: new Map(),
      hash: createHash("sha256"),
      bytes: 0,
      hashed: [],
      generation: 0,
      running: undefined,
      again: false,
      lifetime: new AbortController(),
    };
    this.#uploads.set(uploadId, state);
    return state;
  }

  /** One pass at a time per upload; a segment stored during a pass gets another one. */
  #kick(uploadId: string, state: UploadState): void {
    if (state.running !== undefined) {
      state.again = true;
      return;
    }
    state.running = (async () => {
      do {
        state.again = false;
        await this.#advance(uploadId, state);
      } while (state.again);
    })()
      .catch(() => startOver(state))
      .finally(() => {
        state.running = undefined;
      });
  }

  async #advance(uploadId: string, state: UploadState): Promise<void> {
    for (;;) {
      const { generation, hash } = state;
      const index = state.hashed.length;
      const sha256 = state.stored.get(index);
      if (sha256 === undefined) return;
      let bytes = 0;
      await this.read(
        uploadId,
        index,
        sha256,
        (chunk) => {
          hash.update(chunk);
          bytes += chunk.byteLength;
        },
        state.lifetime.signal,
      );
      // Started over meanwhile: what was just read went into a hash nobody uses any more.
      if (generation !== state.generation) continue;
      state.bytes += bytes;
      state.hashed.push(sha256);
    }
  }
}

/**
 * A copy of `state.hash` if the segments it was fed (`hashed`, by index from 0) are the first
 * of `segments` (ordered by index) with the same SHA-256 each; undefined otherwise.
 */
export function hashedPrefixOf(
  state: { hash: Hash; bytes: number; hashed: readonly string[] },
  segments: readonly { index: number; sha256: string }[],
): HashedPrefix | undefined {
  const { hashed } = state;
  if (hashed.length === 0 || hashed.length > segments.length) return undefined;
  for (const [position, sha256] of hashed.entries()) {
    const segment = segments[position];
    if (segment?.index !== position || segment.sha256 !== sha256) return undefined;
  }
  return { hash: state.hash.copy(), bytes: state.bytes, count: hashed.length };
}

function startOver(state: UploadState): void {
  state.hash = createHash("sha256");
  state.bytes = 0;
  state.hashed = [];
  state.generation += 1;
}
