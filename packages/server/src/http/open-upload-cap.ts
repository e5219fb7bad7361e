import { TooManyOpenUploadsError, type UploadRepository } from "@cleancut/core";

/**
 * At most `max` open uploads (uploading or completing) per creator. Count and create run one at a
 * time per creator in this process, so a burst of creates cannot slip past the count together;
 * several instances may each let one through at the same moment, which the cap tolerates.
 */
export class OpenUploadCap {
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly repository: UploadRepository,
    private readonly max: number,
  ) {}

  run<T>(creator: string, signal: AbortSignal, create: () => Promise<T>): Promise<T> {
    if (this.max <= 0) return create();
    const previous = this.#queues.get(creator) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(async () => {
        const open = await this.repository.countOpenUploads(creator, signal);
        if (open >= this.max) {
          throw new TooManyOpenUploadsError(
            `this client already has ${open} uploads open (the limit is ${this.max}): complete or cancel some first`,
            { details: { open, limit: this.max } },
          );
        }
        return create();
      });
    this.#queues.set(creator, next);
    // The queue entry goes once it is the last one, so idle owners cost nothing.
    void next
      .catch(() => {})
      .finally(() => {
        if (this.#queues.get(creator) === next) this.#queues.delete(creator);
      });
    return next;
  }
}
