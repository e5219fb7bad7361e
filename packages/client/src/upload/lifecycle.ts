import type { UploadPhase } from "./events.js";

/**
 * The allowed moves. Cancel is reachable from every non-final phase, and from `failed` (a failed
 * upload may still hold bytes on the server). Nothing leaves `completed` or `cancelled`.
 */
const transitions: Record<UploadPhase, readonly UploadPhase[]> = {
  idle: ["creating", "cancelling"],
  creating: ["uploading", "paused", "cancelling", "failed"],
  uploading: ["paused", "completing", "cancelling", "failed"],
  paused: ["creating", "uploading", "cancelling", "failed"],
  completing: ["completed", "cancelling", "failed"],
  completed: [],
  cancelling: ["cancelled", "failed"],
  cancelled: [],
  failed: ["cancelling"],
};

/** Why a run of the upload was stopped: a value carried by the AbortSignal, not a flag. */
export type StopReason = { kind: "pause" } | { kind: "cancel" };

export function isStopReason(value: unknown): value is StopReason {
  return (
    typeof value === "object" &&
    value !== null &&
    "kind" in value &&
    (value.kind === "pause" || value.kind === "cancel")
  );
}

/** The upload's phase as a state machine; every change is checked and announced. */
export class Lifecycle {
  #phase: UploadPhase = "idle";

  constructor(private readonly announce: (phase: UploadPhase) => void) {}

  get phase(): UploadPhase {
    return this.#phase;
  }

  can(next: UploadPhase): boolean {
    return transitions[this.#phase].includes(next);
  }

  /** Moves if allowed; returns whether it moved (a late event from a stopped run is simply ignored). */
  to(next: UploadPhase): boolean {
    if (!this.can(next)) return false;
    this.#phase = next;
    this.announce(next);
    return true;
  }
}
