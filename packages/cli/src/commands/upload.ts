import { parseArgs } from "node:util";
import { createUpload, FileJournal, NodeFileSource, resumeCancels } from "@cleancut/client/node";
import { type CancelReport, CleanupUnverifiedError, isCleancutError } from "@cleancut/core";
import { parseByteSize } from "../byte-size.js";
import { endpointFrom, journalPathFrom } from "../endpoint.js";
import { LiveLine, renderCleanup, renderTransfer, type TransferView } from "../progress-bar.js";
import { describeCancel, describeVideo } from "../report-text.js";
import { UsageError } from "../usage-error.js";

export const uploadHelp = `Usage: cleancut upload <file> [options]

Uploads a video in segments, in parallel, with a live progress bar.
Ctrl-C cancels: transfers stop at once, the server deletes every stored segment and
verifies it, and the report is printed (exit code 130). A second Ctrl-C leaves the
unfinished cleanup in the journal for "cleancut resume-cancels".

Options:
  --endpoint URL        server (default http://127.0.0.1:8787, env CLEANCUT_ENDPOINT)
  --segment-size SIZE   e.g. 8MiB (default: the server's)
  --concurrency N       segments in flight at once (default 4)
  --api-key KEY         the server's API key, if it has one (env CLEANCUT_API_KEY)
  --resume ID --token T continue an upload created earlier, from the segments the server holds
  --journal PATH        where unconfirmed cancels are kept (env CLEANCUT_JOURNAL)
  --json                print the result as JSON, no progress bar
  -h, --help            show this help`;

export async function uploadCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      endpoint: { type: "string" },
      "segment-size": { type: "string" },
      concurrency: { type: "string" },
      "api-key": { type: "string" },
      resume: { type: "string" },
      token: { type: "string" },
      journal: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(uploadHelp);
    return 0;
  }
  const [path, ...extra] = positionals;
  if (path === undefined || extra.length > 0)
    throw new UsageError("upload takes exactly one file; see cleancut upload --help");
  if ((values.resume === undefined) !== (values.token === undefined)) {
    throw new UsageError("--resume and --token go together");
  }
  const segmentSize =
    values["segment-size"] === undefined ? undefined : parseByteSize(values["segment-size"]);
  if (segmentSize === 0 || (values["segment-size"] !== undefined && segmentSize === undefined)) {
    throw new UsageError(
      `--segment-size must be a size such as 8MiB, got ${JSON.stringify(values["segment-size"])}`,
    );
  }
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError("--concurrency must be a whole number from 1 to 64");
  }
  const endpoint = endpointFrom(values.endpoint);
  const journal = new FileJournal(journalPathFrom(values.journal));
  const json = values.json === true;
  const line = new LiveLine(process.stderr);

  await finishEarlierCancels(journal, json);
  const source = await NodeFileSource.open(path);
  const apiKey = values["api-key"] ?? process.env.CLEANCUT_API_KEY;
  const upload = createUpload(source, {
    endpoint,
    concurrency,
    journal,
    ...(segmentSize === undefined ? {} : { segmentSize }),
    ...(apiKey === undefined ? {} : { apiKey }),
    ...(values.resume === undefined || values.token === undefined
      ? {}
      : { resumeFrom: { id: values.resume, token: values.token } }),
  });

  const view: TransferView = {
    bytesSent: 0,
    totalBytes: source.size,
    rate: 0,
    etaSeconds: undefined,
    segmentsDone: 0,
    segmentCount: undefined,
    inFlight: 0,
  };
  let cancelling: Promise<CancelReport> | undefined;
  const redraw = () => {
    if (json || cancelling !== undefined) return;
    view.segmentCount = upload.segmentCount;
    view.segmentsDone = upload.segmentsDone;
    view.inFlight = upload.activeRequests;
    line.draw(renderTransfer(view));
  };
  upload.on("progress", (progress) => {
    Object.assign(view, progress);
    redraw();
  });
  upload.on("segment", redraw);
  upload.on("cancel-progress", (progress) => {
    if (!json) line.draw(renderCleanup(progress), true);
  });

  const onSigint = () => {
    if (cancelling === undefined) {
      if (!json) line.draw(renderCleanup(undefined), true);
      cancelling = upload.cancel();
      return;
    }
    line.done();
    process.stderr.write("cleancut: cleanup left to the journal; finish it with: cleancut resume-cancels\n");
    process.exit(1);
  };
  process.on("SIGINT", onSigint);
  try {
    upload.start();
    const video = await upload.done;
    line.done();
    process.stdout.write(json ? `${JSON.stringify(video)}\n` : `${describeVideo(video, endpoint)}\n`);
    return 0;
  } catch (error) {
    if (cancelling === undefined) throw error;
    return reportCancel(await settle(cancelling), line, json);
  } finally {
    process.off("SIGINT", onSigint);
    await source.close();
  }
}

async function settle(cancelling: Promise<CancelReport>): Promise<CancelReport | Error> {
  try {
    return await cancelling;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function reportCancel(outcome: CancelReport | Error, line: LiveLine, json: boolean): number {
  line.done();
  if (outcome instanceof Error) {
    const code = isCleancutError(outcome) ? outcome.code : "error";
    if (json) process.stdout.write(`${JSON.stringify({ error: { code, message: outcome.message } })}\n`);
    const hint =
      outcome instanceof CleanupUnverifiedError
        ? " It is kept in the journal: run cleancut resume-cancels when the server is back."
        : "";
    process.stderr.write(`cleancut: cancel could not be verified: ${outcome.message}.${hint}\n`);
    return 1;
  }
  process.stdout.write(json ? `${JSON.stringify(outcome)}\n` : `${describeCancel(outcome)}\n`);
  // 130 is what a shell expects after Ctrl-C; only a verified cleanup earns it.
  return outcome.verified ? 130 : 1;
}

async function finishEarlierCancels(journal: FileJournal, json: boolean): Promise<void> {
  const finished = await resumeCancels(journal, { pollTimeoutMs: 5000, retry: { retries: 1 } });
  const done = finished.filter((result) => result.ok).length;
  if (done > 0 && !json) process.stderr.write(`finished ${done} earlier cancel(s) from the journal\n`);
}
