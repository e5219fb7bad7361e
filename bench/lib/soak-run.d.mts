// Types for the soak run, so the test that runs its 20-second version is type-checked.
export interface SoakResult {
  seed: number;
  concurrent: number;
  seconds: number;
  completed: number;
  cancelled: number;
  failures: number;
  unverified: number;
  videosDeleted: number;
  uploadsPerSecond: number;
  cancelsPerSecond: number;
  cancelToVerifiedMs?: { n: number; median: number; p99: number; max: number; min: number };
  serverRssMiB: { first?: number; max: number; last?: number };
  serverFds: { first: number; max: number; last: number };
  leftoverFiles: number;
  leftoverBytes: number;
  leftoverFolders: number;
  errors: string[];
  samples: Array<Record<string, number | undefined>>;
  dataDir: string;
}

export function runSoak(options: {
  concurrent?: number;
  seconds?: number;
  cancelRatio?: number;
  seed?: number;
  workDir: string;
}): Promise<SoakResult>;
