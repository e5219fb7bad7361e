import { ApiClient, type UploadRef, XhrTransport } from "@cleancut/client";
import { byId } from "./dom";
import { formatBytes } from "./format";

/**
 * An upload the application's backend created (server-to-server, with the API key) and handed
 * to this page as `#upload=<id>&token=<token>`. In the fragment, not the query: browsers never
 * send the fragment to a server, so the token stays out of access logs and Referer headers.
 */
export function appIssuedFromHash(hash: string): UploadRef | undefined {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const id = params.get("upload");
  const token = params.get("token");
  return id && token ? { id, token } : undefined;
}

/**
 * The card for an app-issued upload: says which file the upload expects (its declared name and
 * size), asks the person to pick it, and hands a file of the right size on. The SDK checks the
 * size again (`file_mismatch`); checking here first keeps the person on this card to pick again.
 */
export class AppIssuedCard {
  readonly #card = byId<HTMLElement>("app-issued");
  readonly #name = byId<HTMLElement>("app-issued-name");
  readonly #text = byId<HTMLElement>("app-issued-text");
  readonly #input = byId<HTMLInputElement>("app-issued-file");
  readonly #drop = byId<HTMLElement>("app-issued-drop");
  readonly #status = byId<HTMLElement>("app-issued-status");
  #expected: { filename: string; size: number } | undefined;

  constructor(
    private readonly ref: UploadRef,
    private readonly endpoint: string,
    private readonly onFile: (file: File) => void,
  ) {
    this.#input.addEventListener("change", () => {
      this.#picked(this.#input.files?.[0]);
      this.#input.value = "";
    });
    this.#drop.addEventListener("dragover", (event) => event.preventDefault());
    this.#drop.addEventListener("drop", (event) => {
      event.preventDefault();
      this.#picked(event.dataTransfer?.files[0]);
    });
  }

  /** Asks the server what the upload expects (with the upload's own token) and shows it. */
  async show(): Promise<void> {
    this.#card.hidden = false;
    this.#card.dataset.state = "loading";
    try {
      const api = new ApiClient(new XhrTransport(), this.endpoint);
      const status = await api.status(this.ref, new AbortController().signal);
      this.#name.textContent = status.filename;
      if (status.state !== "uploading") {
        this.#closed(`This upload is already ${status.state}: there is nothing to send.`, status.state);
        return;
      }
      this.#expected = { filename: status.filename, size: status.size };
      this.#text.textContent = `Pick ${status.filename} (${formatBytes(status.size)}) from your device.`;
      this.#card.dataset.state = "waiting";
    } catch (error) {
      const code = (error as { code?: string }).code ?? "error";
      this.#closed(`This upload link does not work: ${(error as Error).message} (${code}).`, "invalid");
    }
  }

  hide(): void {
    this.#card.hidden = true;
  }

  #picked(file: File | undefined): void {
    const expected = this.#expected;
    if (file === undefined || expected === undefined) return;
    if (file.size !== expected.size) {
      this.#status.textContent =
        `${file.name} is ${formatBytes(file.size)}, not the file this upload is for: ` +
        `pick ${expected.filename} (${formatBytes(expected.size)}).`;
      this.#card.dataset.state = "mismatch";
      return;
    }
    this.#status.textContent = "";
    this.hide();
    this.onFile(file);
  }

  #closed(text: string, state: string): void {
    this.#text.textContent = text;
    this.#drop.hidden = true;
    this.#card.dataset.state = state;
  }
}
