import { parseByteSize } from "./byte-size.js";
import type { Given } from "./settings-table.js";
import { UsageError } from "./usage-error.js";

/** `from` is the flag or the environment variable the text came from, so the message names it. */
export function parseInteger(text: string, from: string): number {
  if (!/^\d+$/.test(text))
    throw new UsageError(`${from} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function wholeNumber(given: Given<string> | undefined): number | undefined {
  return given === undefined ? undefined : parseInteger(given.value, given.from);
}

/** Seconds as a positive decimal (0.5 is allowed: tests and local setups want short limits), in ms. */
export function secondsToMs(given: Given<string> | undefined): number | undefined {
  if (given === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(given.value) || Number(given.value) <= 0) {
    throw new UsageError(
      `${given.from} must be a positive number of seconds, got ${JSON.stringify(given.value)}`,
    );
  }
  return Math.round(Number(given.value) * 1000);
}

export function byteSize(given: Given<string> | undefined): number | undefined {
  if (given === undefined) return undefined;
  const bytes = parseByteSize(given.value);
  if (bytes === undefined || bytes <= 0)
    throw new UsageError(`${given.from} must be a size such as 8MiB, got ${JSON.stringify(given.value)}`);
  return bytes;
}
