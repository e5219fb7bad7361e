import type { UploadRepository } from "@cleancut/core";
import { FaultGate } from "./fault-gate.js";

export type RepositoryMethod = Exclude<keyof UploadRepository, "close" | "onEventCommitted">;

/** What a database that went away looks like to the server: a plain error from its driver. */
const databaseFailure = (method: string) =>
  Object.assign(new Error(`injected fault: ${method}: Connection terminated unexpectedly`), {
    code: "ECONNRESET",
  });

/**
 * Wraps a real repository (SQLite or PostgreSQL) and makes it fail, hang or slow down on
 * command. Every repository method takes its AbortSignal last, so one gate in front of each
 * call covers them all; the real database still does the work when no fault is set.
 */
export function faultInjectingRepository(
  inner: UploadRepository,
): UploadRepository & { readonly faults: FaultGate<RepositoryMethod> } {
  const faults = new FaultGate<RepositoryMethod>(databaseFailure);
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === "faults") return faults;
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      // Bound to the real repository: its private fields are not on the proxy.
      if (property === "close" || property === "onEventCommitted") return value.bind(target);
      return async (...args: unknown[]) => {
        // The signal comes after the method's own arguments (an optional event may follow it).
        const signal = args.find((arg): arg is AbortSignal => arg instanceof AbortSignal);
        await faults.pass(property as RepositoryMethod, signal as AbortSignal);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as UploadRepository & { readonly faults: FaultGate<RepositoryMethod> };
}
