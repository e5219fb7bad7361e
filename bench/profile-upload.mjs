// npm run bench:profile — where a 1 GiB upload's CPU goes, on both sides: `cleancut serve`
// (disk + SQLite) and the @cleancut/client upload each run with `node --cpu-prof`; prints the
// top self-time functions of each (the flat view of a flame graph) and keeps the .cpuprofile
// files in bench/results/profiles/ (open them in Chrome DevTools or speedscope for the graph).
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { benchTempDir } from "./lib/children.mjs";
import { topSelfTime } from "./lib/cpuprofile-top.mjs";
import { lastJsonLine, runNode } from "./lib/run-node.mjs";
import { startServerProcess } from "./lib/server-process.mjs";
import { makeVideoLikeFile } from "./lib/video-like-file.mjs";

const MiB = 1024 * 1024;
const size = Number(process.env.BIG_MIB ?? 1024) * MiB;
const out = new URL("./results/profiles/", import.meta.url).pathname;
await rm(out, { recursive: true, force: true });
await mkdir(join(out, "server"), { recursive: true });
await mkdir(join(out, "client"), { recursive: true });
const work = await benchTempDir("cleancut-bench-profile-");
const file = join(work, "big.mp4");
await makeVideoLikeFile(file, size);

const server = await startServerProcess(["--no-ffprobe"], {
  nodeOptions: ["--cpu-prof", `--cpu-prof-dir=${join(out, "server")}`],
});
let result;
try {
  const output = await runNode([
    "--cpu-prof",
    `--cpu-prof-dir=${join(out, "client")}`,
    new URL("./lib/client-upload.mjs", import.meta.url).pathname,
    server.url,
    file,
    String(8 * MiB),
    "4",
  ]);
  result = lastJsonLine(output);
} finally {
  await server.stop();
  await rm(server.dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}

const lines = [
  `# Where a ${size / MiB} MiB upload's CPU goes (${new Date().toISOString()})`,
  "",
  `Segments stored after ${(result.uploadMs / 1000).toFixed(2)} s, complete answered after ${(result.totalMs / 1000).toFixed(2)} s. Self time per function, share of each process's samples (\`node --cpu-prof\`; the .cpuprofile files are in bench/results/profiles/).`,
  "",
];
for (const side of ["server", "client"]) {
  const [name] = await readdir(join(out, side));
  const top = await topSelfTime(join(out, side, name));
  lines.push(
    `## ${side}: ${top.seconds.toFixed(1)} s profiled, ${top.busySeconds.toFixed(1)} s busy`,
    "",
    "| share | function |",
    "| --- | --- |",
    ...top.rows.map((row) => `| ${(row.share * 100).toFixed(1)} % | \`${row.name}\` |`),
    "",
  );
}
await writeFile(new URL("./results/profile.md", import.meta.url), `${lines.join("\n")}\n`);
console.log(lines.join("\n"));
