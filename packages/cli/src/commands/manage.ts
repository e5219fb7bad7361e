import { parseArgs } from "node:util";
import { ApiClient, confirmCancel, FileJournal, resumeCancels, UndiciTransport } from "@cleancut/client/node";
import { formatBytes } from "../byte-size.js";
import { endpointFrom, journalPathFrom } from "../endpoint.js";
import { LiveLine, renderCleanup } from "../progress-bar.js";
import { describeCancel, describeStatus } from "../report-text.js";
import { UsageError } from "../usage-error.js";

export const manageHelp = `Usage:
  cleancut cancel <id> --token T [--endpoint URL] [--json]   cancel an upload; waits until storage is verified empty
  cleancut status <id> --token T [--endpoint URL] [--json]   an upload's state, progress and cancel report
  cleancut ls [--api-key KEY] [--state S] [--limit N] [--endpoint URL] [--json]   uploads on a server
  cleancut resume-cancels [--journal PATH] [--json]          finish cancels that could not reach the server`;

const common = {
  endpoint: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function oneUpload(argv: string[], name: string) {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: common });
  if (values.help) return undefined;
  const [id, ...extra] = positionals;
  if (id === undefined || extra.length > 0)
    throw new UsageError(`${name} takes one upload id; see cleancut ${name} --help`);
  const token = values.token ?? process.env.CLEANCUT_TOKEN;
  if (token === undefined) throw new UsageError(`${name} needs the upload's --token`);
  const api = new ApiClient(new UndiciTransport(), endpointFrom(values.endpoint));
  return { api, ref: { id, token }, json: values.json === true };
}

export async function cancelCommand(argv: string[]): Promise<number> {
  const parsed = oneUpload(argv, "cancel");
  if (parsed === undefined) return help();
  const line = new LiveLine(process.stderr);
  const report = await confirmCancel(
    parsed.api,
    { ...parsed.ref, endpoint: parsed.api.endpoint, requestedAt: new Date().toISOString() },
    {
      signal: new AbortController().signal,
      onProgress: (progress) => {
        if (!parsed.json) line.draw(renderCleanup(progress), true);
      },
    },
  );
  line.done();
  process.stdout.write(parsed.json ? `${JSON.stringify(report)}\n` : `${describeCancel(report)}\n`);
  return report.verified ? 0 : 1;
}

export async function statusCommand(argv: string[]): Promise<number> {
  const parsed = oneUpload(argv, "status");
  if (parsed === undefined) return help();
  const status = await parsed.api.status(parsed.ref, new AbortController().signal);
  process.stdout.write(parsed.json ? `${JSON.stringify(status)}\n` : `${describeStatus(status)}\n`);
  return 0;
}

export async function listCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...common,
      "api-key": { type: "string" },
      state: { type: "string" },
      limit: { type: "string" },
    },
  });
  if (values.help) return help();
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError("--limit must be 1..1000");
  const api = new ApiClient(new UndiciTransport(), endpointFrom(values.endpoint));
  const uploads = await api.listUploads(
    { limit, ...(values.state === undefined ? {} : { state: values.state }) },
    values["api-key"] ?? process.env.CLEANCUT_API_KEY,
    new AbortController().signal,
  );
  if (values.json) {
    process.stdout.write(`${JSON.stringify(uploads)}\n`);
    return 0;
  }
  if (uploads.length === 0) {
    process.stdout.write("no uploads\n");
    return 0;
  }
  for (const upload of uploads) {
    const progress = `${upload.receivedSegments}/${upload.segmentCount}`;
    process.stdout.write(
      `${upload.id}  ${upload.state.padEnd(10)}  ${progress.padStart(9)}  ${formatBytes(upload.size).padStart(10)}  ${upload.createdAt}  ${upload.filename}\n`,
    );
  }
  return 0;
}

export async function resumeCancelsCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { journal: { type: "string" }, ...common } });
  if (values.help) return help();
  const journal = new FileJournal(journalPathFrom(values.journal));
  const results = await resumeCancels(journal);
  if (values.json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else if (results.length === 0) process.stdout.write("no unfinished cancels\n");
  for (const result of results) {
    if (values.json) break;
    process.stdout.write(
      result.ok
        ? `${result.id}: ${describeCancel(result.report)}\n`
        : `${result.id}: still pending: ${result.error.message}\n`,
    );
  }
  return results.every((result) => result.ok) ? 0 : 1;
}

function help(): number {
  console.log(manageHelp);
  return 0;
}
