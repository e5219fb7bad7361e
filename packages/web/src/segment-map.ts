export type CellState = "waiting" | "sending" | "stored" | "deleting" | "deleted";

/**
 * One cell per segment. Cells have a fixed size and change only their class, so updates never
 * move the layout; `data-state` makes the map readable by tests and assistive tech alike.
 */
export class SegmentMap {
  #cells: HTMLLIElement[] = [];

  constructor(private readonly list: HTMLOListElement) {}

  reset(count: number): void {
    const cells: HTMLLIElement[] = [];
    for (let index = 0; index < count; index++) {
      const cell = document.createElement("li");
      cell.className = "cell waiting";
      cell.dataset.state = "waiting";
      cell.title = `segment ${index}: waiting`;
      cells.push(cell);
    }
    this.list.replaceChildren(...cells);
    this.#cells = cells;
  }

  get count(): number {
    return this.#cells.length;
  }

  set(index: number, state: CellState, sentFraction = 0): void {
    const cell = this.#cells[index];
    if (cell === undefined) return;
    if (cell.dataset.state !== state) {
      cell.className = `cell ${state}`;
      cell.dataset.state = state;
      cell.title = `segment ${index}: ${state}`;
    }
    if (state === "sending") cell.style.setProperty("--sent", sentFraction.toFixed(3));
  }

  indexesIn(state: CellState): number[] {
    const found: number[] = [];
    this.#cells.forEach((cell, index) => {
      if (cell.dataset.state === state) found.push(index);
    });
    return found;
  }

  /** Moves every cell in `from` to `to` (a cancel: stored → deleting, in flight → waiting). */
  move(from: CellState, to: CellState): void {
    for (const index of this.indexesIn(from)) this.set(index, to);
  }

  /**
   * Shows a cleanup's progress: the server reports how many segments it deleted, not which,
   * so that many of the cells being deleted turn to deleted.
   */
  showDeleted(deleted: number): void {
    const done = this.indexesIn("deleted").length;
    const deleting = this.indexesIn("deleting");
    for (const index of deleting.slice(0, Math.max(0, deleted - done))) this.set(index, "deleted");
  }
}
