/** A cancel the client asked for and has not yet seen verified. Enough to finish it later, anywhere. */
export interface JournalEntry {
  endpoint: string;
  id: string;
  token: string;
  requestedAt: string;
}

/**
 * Durable record of unconfirmed cancels. Written before the DELETE is sent and cleared once the
 * server verified storage empty, so a crash or an outage never forgets a cancel the user asked for.
 */
export interface CancelJournal {
  add(entry: JournalEntry, signal?: AbortSignal): Promise<void>;
  remove(id: string, signal?: AbortSignal): Promise<void>;
  list(signal?: AbortSignal): Promise<JournalEntry[]>;
}

/** In memory: survives an outage but not a reload. The browser default until an IndexedDB journal exists. */
export class MemoryJournal implements CancelJournal {
  readonly #entries = new Map<string, JournalEntry>();

  async add(entry: JournalEntry): Promise<void> {
    this.#entries.set(entry.id, { ...entry });
  }

  async remove(id: string): Promise<void> {
    this.#entries.delete(id);
  }

  async list(): Promise<JournalEntry[]> {
    return [...this.#entries.values()].map((entry) => ({ ...entry }));
  }
}

export function isJournalEntry(value: unknown): value is JournalEntry {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.endpoint === "string" &&
    typeof entry.id === "string" &&
    typeof entry.token === "string" &&
    typeof entry.requestedAt === "string"
  );
}
