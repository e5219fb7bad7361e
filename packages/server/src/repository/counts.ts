import { type UploadState, uploadStates } from "@cleancut/core";

/**
 * Turns `GROUP BY state` rows into a record with every state present: a state with no rows
 * must still read 0 (a metric that vanished would look like "unknown", not "none").
 */
export function countsByState(
  rows: ReadonlyArray<{ state: UploadState; count: number | string }>,
): Record<UploadState, number> {
  const counts = Object.fromEntries(uploadStates.map((state) => [state, 0])) as Record<UploadState, number>;
  for (const row of rows) {
    if (row.state in counts) counts[row.state] = Number(row.count);
  }
  return counts;
}
