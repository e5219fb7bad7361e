import type { EventDraft, UploadEvent, UploadMetadata } from "@cleancut/core";
import { newId } from "../ids.js";

/** An outbox row (`webhook_events`), as both SQL repositories read it. */
export interface EventRow {
  seq: number | string;
  id: string;
  upload_id: string;
  type: string;
  owner: string | null;
  metadata: string | null;
  data: string;
  created_at: number | string;
}

/** The columns of a new outbox row that do not come from the upload's own row. */
export interface NewEventValues {
  id: string;
  type: EventDraft["type"];
  data: string;
  createdAt: number;
}

export function newEventValues(draft: EventDraft, now: number): NewEventValues {
  return { id: `evt_${newId()}`, type: draft.type, data: JSON.stringify(draft.data), createdAt: now };
}

/** The event as receivers and in-process listeners see it (the webhook body). */
export function rowToEvent(row: EventRow): UploadEvent {
  const data: Record<string, unknown> = { uploadId: row.upload_id };
  if (row.owner !== null) data.owner = row.owner;
  if (row.metadata !== null) data.metadata = JSON.parse(row.metadata) as UploadMetadata;
  Object.assign(data, JSON.parse(row.data) as object);
  return {
    id: row.id,
    type: row.type,
    timestamp: new Date(Number(row.created_at)).toISOString(),
    data,
  } as unknown as UploadEvent;
}

/** The row an event was written as, from its values and its upload's owner and metadata. */
export function eventRowOf(
  values: NewEventValues,
  subject: { uploadId: string; owner?: string | null | undefined; metadata?: string | null | undefined },
): EventRow {
  return {
    seq: 0,
    id: values.id,
    upload_id: subject.uploadId,
    type: values.type,
    owner: subject.owner ?? null,
    metadata: subject.metadata ?? null,
    data: values.data,
    created_at: values.createdAt,
  };
}

/**
 * Listeners of committed events, shared by both repositories. A listener that throws never
 * breaks the state change it hears about (which has committed already).
 */
export class CommittedEvents {
  readonly #listeners = new Set<(event: UploadEvent) => void>();

  on(listener: (event: UploadEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  announce(row: EventRow | undefined): void {
    if (row === undefined || this.#listeners.size === 0) return;
    const event = rowToEvent(row);
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch {
        // Listeners report their own errors; the change has committed either way.
      }
    }
  }
}
