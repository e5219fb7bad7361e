import { readFileSync } from "node:fs";

/**
 * The CLI package's own version, read at run time from its package.json: relative to this module
 * (dist/version.js → ../package.json), so it is right in the repository and in an installed tarball
 * alike, whatever the working directory.
 */
export function cliVersion(): string {
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(text) as { version: string }).version;
}
