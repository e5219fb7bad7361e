import { readFile } from "node:fs/promises";

/**
 * Where a `.cpuprofile` (node --cpu-prof) spent its time: self time per function (name, file,
 * line), largest first, as shares of all samples — the flat view of a flame graph, enough to
 * say which work dominates. Idle and garbage collection keep their V8 names.
 */
export async function topSelfTime(path, limit = 15) {
  const profile = JSON.parse(await readFile(path, "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFunction = new Map();
  for (const [id, count] of hits) {
    const frame = byId.get(id).callFrame;
    const file = frame.url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "");
    const key =
      `${frame.functionName || "(anonymous)"} ${file ? `${file.split("/").slice(-2).join("/")}:${frame.lineNumber + 1}` : ""}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + count);
  }
  const total = profile.samples.length;
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  const rows = [...byFunction.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, count]) => ({ name, share: count / total }));
  const idle = (byFunction.get("(idle)") ?? 0) / total;
  return { seconds, busySeconds: seconds * (1 - idle), rows };
}
