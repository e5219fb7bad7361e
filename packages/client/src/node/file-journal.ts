import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { type CancelJournal, isJournalEntry, type JournalEntry } from "../journal/cancel-journal.js";

/**
 * The journal as a JSON file. Each change writes a temp file, fsyncs it and renames it over the
 * old one, so a crash leaves either the old or the new journal, never half of one. Changes are
 * queued so two cancels in one process cannot overwrite each other's entry.
 */
export class FileJournal implements CancelJournal {
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  add(entry: JournalEntry, signal?: AbortSignal): Promise<void> {
    return this.#change((entries) => [...entries.filter((e) => e.id !== entry.id), { ...entry }], signal);
  }

  remove(id: string, signal?: AbortSignal): Promise<void> {
    return this.#change((entries) => entries.filter((e) => e.id !== id), signal);
  }

  async list(signal?: AbortSignal): Promise<JournalEntry[]> {
    await this.#queue;
    return this.#read(signal);
  }

  #change(edit: (entries: JournalEntry[]) => JournalEntry[], signal: AbortSignal | undefined): Promise<void> {
    const next = this.#queue.then(async () => {
      signal?.throwIfAborted();
      await this.#write(edit(await this.#read(signal)));
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  async #read(signal: AbortSignal | undefined): Promise<JournalEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, { encoding: "utf8", ...(signal ? { signal } : {}) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter(isJournalEntry) : [];
  }

  async #write(entries: JournalEntry[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.${Date.now()}.tmp`;
    const handle = await open(temp, "w");
    try {
      await handle.writeFile(`${JSON.stringify(entries, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}
