import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { HeadBucketCommand } from "@aws-sdk/client-s3";
import type { SegmentStore, UploadRepository } from "@cleancut/core";
import { DiskStore } from "../stores/disk-store.js";
import { S3Store } from "../stores/s3-store.js";

/** Resolves when the dependency answers; rejects (with why) when it does not. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<void>;

/**
 * A primary-key lookup of an id that never exists: it proves the database answers (a closed
 * SQLite handle or an ended pg pool throws) without scanning anything.
 */
export function databaseCheck(repository: UploadRepository): ReadinessCheck {
  return async (signal) => {
    await repository.getUpload("readyz_probe", signal);
  };
}

/**
 * Built from the store as opened, before any wrapper, where its concrete type is known: the
 * `SegmentStore` contract stays free of a readiness method. Disk: `uploads/` must exist and be
 * writable (a removed or read-only data folder fails every upload). S3: the HeadBucket that
 * start-up already runs. A store of another kind (given by an embedder) is not checked.
 */
export function storeCheck(store: SegmentStore): ReadinessCheck {
  if (store instanceof DiskStore) {
    const uploads = join(store.dataDir, "uploads");
    return async () => {
      await access(uploads, constants.W_OK | constants.X_OK);
    };
  }
  if (store instanceof S3Store) {
    return async (signal) => {
      await store.client.send(new HeadBucketCommand({ Bucket: store.bucket }), { abortSignal: signal });
    };
  }
  return async () => {};
}

export type CheckResult = "ok" | "failed";

/**
 * Runs every check at once, each bounded by `timeoutMs` even if it ignores its signal (pg
 * cannot abandon a query): a hung dependency must make readiness fail, not hang.
 */
export async function runChecks<K extends string>(
  checks: Record<K, ReadinessCheck>,
  timeoutMs: number,
  onFailure: (name: K, error: unknown) => void,
): Promise<{ ready: boolean; checks: Record<K, CheckResult> }> {
  const names = Object.keys(checks) as K[];
  const results = await Promise.all(
    names.map(async (name): Promise<CheckResult> => {
      const controller = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`${name} check did not answer within ${timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      });
      try {
        await Promise.race([checks[name](controller.signal), timedOut]);
        return "ok";
      } catch (error) {
        onFailure(name, error);
        return "failed";
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const byName = Object.fromEntries(names.map((name, i) => [name, results[i]])) as Record<K, CheckResult>;
  return { ready: results.every((result) => result === "ok"), checks: byName };
}
