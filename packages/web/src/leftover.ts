import {
  ApiClient,
  type CancelJournal,
  type IndexedDbUploadSessions,
  type UploadSession,
  XhrTransport,
} from "@cleancut/client";
import { byId } from "./dom";
import { formatBytes, plural } from "./format";

/**
 * The card for an upload the last visit left unfinished (tab closed or reloaded mid-upload):
 * resume it with the same file, or clean it up. Cleaning up goes through the cancel journal,
 * so it is finished even if this tab is closed again right away.
 */
export class LeftoverCard {
  readonly #card = byId<HTMLElement>("leftover");
  readonly #text = byId<HTMLElement>("leftover-text");
  readonly #status = byId<HTMLElement>("leftover-status");
  readonly #resume = byId<HTMLButtonElement>("leftover-resume");
  readonly #cleanup = byId<HTMLButtonElement>("leftover-cleanup");
  #session: UploadSession | undefined;

  constructor(
    private readonly journal: CancelJournal,
    private readonly sessions: IndexedDbUploadSessions,
    private readonly resumeWith: (session: UploadSession, file: File) => void,
    private readonly cleanUp: () => void,
  ) {
    this.#resume.addEventListener("click", () => this.#pickFile());
    this.#cleanup.addEventListener("click", () => void this.#cleanUp());
  }

  /** Looks at the uploads the last visit left; offers the first one still taking segments. */
  async check(): Promise<void> {
    const journaled = new Set((await this.journal.list()).map((entry) => entry.id));
    for (const session of await this.sessions.list()) {
      if (journaled.has(session.id)) {
        await this.sessions.remove(session.id);
        continue;
      }
      const api = new ApiClient(new XhrTransport(), session.endpoint);
      try {
        const status = await api.status(session, new AbortController().signal);
        if (status.state !== "uploading") {
          await this.sessions.remove(session.id);
          continue;
        }
        this.#offer(session, status.receivedSegments, status.segmentCount);
        return;
      } catch (error) {
        if ((error as { code?: string }).code === "upload_not_found") await this.sessions.remove(session.id);
        // Server unreachable: keep the session for the next visit.
      }
    }
  }

  /** Shows the status of a cancel started from this card (or from the journal on load). */
  status(text: string): void {
    this.#card.hidden = false;
    this.#status.textContent = text;
  }

  hide(): void {
    this.#card.hidden = true;
    this.#session = undefined;
  }

  #offer(session: UploadSession, received: number, count: number): void {
    this.#session = session;
    this.#card.hidden = false;
    this.#resume.hidden = false;
    this.#cleanup.hidden = false;
    this.#text.textContent =
      `${session.file.name} (${formatBytes(session.file.size)}): the server holds ${received} of ` +
      `${plural(count, "segment")}. Resume it with the same file, or clean it up (its segments are deleted and the storage checked).`;
    this.#status.textContent = "";
  }

  #pickFile(): void {
    const session = this.#session;
    if (session === undefined) return;
    const input = document.createElement("input");
    input.type = "file";
    input.accept = "video/*";
    input.id = "leftover-file";
    input.hidden = true;
    input.addEventListener("change", () => {
      const file = input.files?.[0];
      input.remove();
      if (file === undefined) return;
      const expected = session.file;
      if (file.name !== expected.name || file.size !== expected.size) {
        this.#status.textContent = `That is not the same file: expected ${expected.name} (${formatBytes(expected.size)}).`;
        return;
      }
      this.hide();
      this.resumeWith(session, file);
    });
    document.body.append(input);
    input.click();
  }

  async #cleanUp(): Promise<void> {
    const session = this.#session;
    if (session === undefined) return;
    this.#resume.hidden = true;
    this.#cleanup.hidden = true;
    // Journal first: from here the cleanup is owed, whatever happens to this tab.
    await this.journal.add({
      endpoint: session.endpoint,
      id: session.id,
      token: session.token,
      requestedAt: new Date().toISOString(),
    });
    await this.sessions.remove(session.id);
    this.#status.textContent = "Deleting its segments…";
    this.cleanUp();
  }
}
