import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const dist = join(import.meta.dirname, "..", "dist");

/** Every module the browser entry pulls in, following relative imports through the built files. */
async function reachableFrom(entry: string): Promise<Map<string, string[]>> {
  const seen = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    const source = await readFile(file, "utf8");
    const specifiers = [...source.matchAll(/(?:import|export)[^'"]*?from\s*["']([^"']+)["']/g)].map(
      (match) => match[1] as string,
    );
    seen.set(file, specifiers);
    for (const specifier of specifiers) {
      if (specifier.startsWith(".")) queue.push(resolve(dirname(file), specifier));
    }
  }
  return seen;
}

describe("the browser build of @cleancut/client", () => {
  it("imports no Node built-in and no Node-only package from its main entry", async () => {
    const modules = await reachableFrom(join(dist, "index.js"));
    expect(modules.size).toBeGreaterThan(10);
    const external = [...modules.values()].flat().filter((specifier) => !specifier.startsWith("."));
    expect(external.filter((specifier) => specifier.startsWith("node:") || specifier === "undici")).toEqual(
      [],
    );
    expect(new Set(external)).toEqual(new Set(["@cleancut/core", "idb"]));
    // The Node pieces live behind their own entry.
    expect([...modules.keys()].some((file) => file.includes(`${join("dist", "node")}`))).toBe(false);
  });
});
