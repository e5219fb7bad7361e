import {
  TypedEmitter,
  type Unsubscribe,
  type UploadEvent,
  type UploadEventMap,
  type UploadEventType,
} from "@cleancut/core";

/** A listener of one event type; it may be async (a rejection is logged like a throw). */
export type UploadEventListener<K extends UploadEventType> = (
  event: UploadEventMap[K],
) => void | Promise<void>;

/** Listeners per event type, as the plugin's and the handler's `on` option takes them. */
export type UploadEventListeners = { [K in UploadEventType]?: UploadEventListener<K> };

/**
 * In-process upload events, fed by the repository after each state change committed (so a
 * listener never hears of a change that did not happen). Listeners run in the order added; one
 * that throws or rejects is reported to `onListenerError` and never affects the upload, the
 * request that caused the event, or the other listeners. Keep them quick: they run on the
 * request's turn of the event loop (start async work and return).
 */
export class UploadEvents {
  readonly #emitter: TypedEmitter<UploadEventMap>;

  constructor(private readonly onListenerError: (error: unknown) => void) {
    this.#emitter = new TypedEmitter<UploadEventMap>(onListenerError);
  }

  on<K extends UploadEventType>(type: K, listener: UploadEventListener<K>): Unsubscribe {
    return this.#emitter.on(type, (event) => {
      const result = listener(event);
      if (result !== undefined && typeof result.then === "function") {
        result.then(undefined, this.onListenerError);
      }
    });
  }

  /** Adds every listener of `listeners`; the returned function removes them all. */
  onEach(listeners: UploadEventListeners): Unsubscribe {
    const offs = Object.entries(listeners).map(([type, listener]) =>
      this.on(type as UploadEventType, listener as UploadEventListener<UploadEventType>),
    );
    return () => {
      for (const off of offs) off();
    };
  }

  emit(event: UploadEvent): void {
    this.#emitter.emit(event.type, event as never);
  }

  removeAll(): void {
    this.#emitter.removeAll();
  }
}
