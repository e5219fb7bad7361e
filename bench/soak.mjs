// npm run bench:soak — 200 uploads at once against one server for 10 minutes (SOAK_SECONDS,
// SOAK_CONCURRENT to change), half of them cancelled at random points, half completed and then
// deleted. Writes bench/results/soak.json and soak.md.
import { rm, writeFile } from "node:fs/promises";
import { benchTempDir } from "./lib/children.mjs";
import { runSoak } from "./lib/soak-run.mjs";

const work = await benchTempDir("cleancut-soak-");
try {
  const result = await runSoak({
    concurrent: Number(process.env.SOAK_CONCURRENT ?? 200),
    seconds: Number(process.env.SOAK_SECONDS ?? 600),
    workDir: work,
  });
  await rm(result.dataDir, { recursive: true, force: true });
  const results = new URL("./results/", import.meta.url);
  await writeFile(new URL("soak.json", results), `${JSON.stringify(result, null, 2)}\n`);
  const over = (series) => series.join(", ");
  const everyMinute = result.samples.filter(
    (_sample, index) => index % 60 === 0 || index === result.samples.length - 1,
  );
  const md = `# cleancut soak (${new Date().toISOString()}, Node ${process.version}, seed ${result.seed})

${result.concurrent} uploads at once for ${result.seconds} s against one \`cleancut serve\` (disk + SQLite), 1–4 MiB files in 256 KiB segments; half cancelled at a random point (client.cancel() until the verified report), half completed and their video deleted.

| uploads/s | cancels/s | completed | cancelled | unverified | errors | cancel→verified median ms | p99 ms | worst ms | leftover files | leftover bytes |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
| ${result.uploadsPerSecond} | ${result.cancelsPerSecond} | ${result.completed} | ${result.cancelled} | ${result.unverified} | ${result.failures} | ${result.cancelToVerifiedMs?.median} | ${result.cancelToVerifiedMs?.p99} | ${result.cancelToVerifiedMs?.max} | ${result.leftoverFiles} | ${result.leftoverBytes} |

Server over time (one sample a minute): RSS MiB ${over(everyMinute.map((s) => `${s.t}s ${s.rssMiB}`))}; JavaScript heap used MiB ${over(everyMinute.map((s) => `${s.t}s ${s.heapUsedMiB ?? "-"}`))}; Buffers (external) MiB ${over(everyMinute.map((s) => `${s.t}s ${s.externalMiB ?? "-"}`))}; open fds ${over(everyMinute.map((s) => `${s.t}s ${s.fds}`))}.
RSS first/max/last: ${result.serverRssMiB.first}/${result.serverRssMiB.max}/${result.serverRssMiB.last} MiB; fds first/max/last: ${result.serverFds.first}/${result.serverFds.max}/${result.serverFds.last}.
${result.errors.length > 0 ? `\nErrors seen: ${result.errors.join("; ")}\n` : ""}`;
  await writeFile(new URL("soak.md", results), md);
  process.stdout.write(md);
} finally {
  await rm(work, { recursive: true, force: true });
}
