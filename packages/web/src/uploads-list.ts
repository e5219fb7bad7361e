import { formatBytes } from "./format";

export interface UploadRow {
  id: string;
  name: string;
  size: number;
  /** What the person sees: "uploading 40 %", "completed", "cancelled · verified empty", … */
  state: string;
  at: string;
  videoId?: string;
}

const key = "cleancut.uploads";
const keep = 20;

/**
 * The uploads this browser made, newest first. A convenience list kept in localStorage; the
 * guarantees (unfinished uploads, unconfirmed cancels) live in IndexedDB through the SDK.
 */
export class UploadsList {
  #rows: UploadRow[];

  constructor(
    private readonly table: HTMLTableElement,
    private readonly empty: HTMLElement,
  ) {
    this.#rows = load();
    this.#render();
  }

  upsert(row: Partial<UploadRow> & Pick<UploadRow, "id">): void {
    const existing = this.#rows.find((candidate) => candidate.id === row.id);
    if (existing !== undefined) Object.assign(existing, row);
    else this.#rows.unshift({ name: "", size: 0, state: "", at: new Date().toISOString(), ...row });
    this.#rows = this.#rows.slice(0, keep);
    localStorage.setItem(key, JSON.stringify(this.#rows));
    this.#render();
  }

  #render(): void {
    const body = this.table.tBodies[0];
    if (body === undefined) return;
    body.replaceChildren(
      ...this.#rows.map((row) => {
        const tr = document.createElement("tr");
        tr.dataset.id = row.id;
        const name = document.createElement("td");
        if (row.videoId !== undefined) {
          const link = document.createElement("a");
          link.href = `v1/videos/${encodeURIComponent(row.videoId)}/content`;
          link.textContent = row.name;
          name.append(link);
        } else {
          name.textContent = row.name;
        }
        const size = cell(formatBytes(row.size));
        const state = cell(row.state, "state");
        const when = cell(new Date(row.at).toLocaleString());
        tr.append(name, size, state, when);
        return tr;
      }),
    );
    this.table.hidden = this.#rows.length === 0;
    this.empty.hidden = this.#rows.length > 0;
  }
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement("td");
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

function load(): UploadRow[] {
  try {
    const parsed: unknown = JSON.parse(localStorage.getItem(key) ?? "[]");
    return Array.isArray(parsed) ? (parsed as UploadRow[]) : [];
  } catch {
    return [];
  }
}
