import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { CancelJournal, JournalEntry } from "./cancel-journal.js";

/** An upload a page started and has not seen finished: enough to resume it (with the same file) or clean it up. */
export interface UploadSession {
  endpoint: string;
  id: string;
  token: string;
  /** The file's identity, to check that a file picked again is the same one. */
  file: { name: string; size: number; type: string; lastModified: number };
  segmentSize: number;
  mode: "proxy" | "direct";
  startedAt: string;
}

interface CleancutDb extends DBSchema {
  cancels: { key: string; value: JournalEntry };
  sessions: { key: string; value: UploadSession };
}

const databaseName = "cleancut";

/** One IndexedDB database per origin with two stores; opened lazily and shared. */
function openCleancutDb(name: string): Promise<IDBPDatabase<CleancutDb>> {
  return openDB<CleancutDb>(name, 1, {
    upgrade(db) {
      db.createObjectStore("cancels", { keyPath: "id" });
      db.createObjectStore("sessions", { keyPath: "id" });
    },
  });
}

/**
 * The browser's durable cancel journal: a cancel the server did not confirm (tab closed, network
 * gone) is still there on the next visit, where `resumeCancels` finishes it.
 */
export class IndexedDbJournal implements CancelJournal {
  readonly #db: Promise<IDBPDatabase<CleancutDb>>;

  constructor(name: string = databaseName) {
    this.#db = openCleancutDb(name);
  }

  async add(entry: JournalEntry): Promise<void> {
    await (await this.#db).put("cancels", { ...entry });
  }

  async remove(id: string): Promise<void> {
    await (await this.#db).delete("cancels", id);
  }

  async list(): Promise<JournalEntry[]> {
    return (await this.#db).getAll("cancels");
  }
}

/**
 * Uploads in progress, written when the upload is created and removed when it completes or its
 * cancel is verified: what a reloaded page offers to resume or to clean up.
 */
export class IndexedDbUploadSessions {
  readonly #db: Promise<IDBPDatabase<CleancutDb>>;

  constructor(name: string = databaseName) {
    this.#db = openCleancutDb(name);
  }

  async put(session: UploadSession): Promise<void> {
    await (await this.#db).put("sessions", structuredClone(session));
  }

  async remove(id: string): Promise<void> {
    await (await this.#db).delete("sessions", id);
  }

  async list(): Promise<UploadSession[]> {
    return (await this.#db).getAll("sessions");
  }
}
