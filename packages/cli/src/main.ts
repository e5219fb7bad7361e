import { isCleancutError } from "@cleancut/core";
import { gcCommand } from "./commands/gc.js";
import { cancelCommand, listCommand, resumeCancelsCommand, statusCommand } from "./commands/manage.js";
import { serveCommand } from "./commands/serve.js";
import { uploadCommand } from "./commands/upload.js";
import { webhooksCommand } from "./commands/webhooks.js";
import { UsageError } from "./usage-error.js";
import { cliVersion } from "./version.js";

const help = `cleancut — segmented video uploads that cancel cleanly

Usage: cleancut <command> [options]

Commands:
  serve            start the upload service
  upload <file>    upload a video with a live progress bar; Ctrl-C cancels and cleans up
  cancel <id>      cancel an upload and wait until its storage is verified empty
  status <id>      an upload's state, progress and cancel report
  ls               uploads on a server
  resume-cancels   finish cancels that could not reach the server
  gc               find and remove stored bytes no live upload owns (--dry-run to only list)
  webhooks ls|replay  webhook deliveries (--failed), and sending an event again

Run "cleancut <command> --help" for a command's options; "cleancut --version" for the version.`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  upload: uploadCommand,
  cancel: cancelCommand,
  status: statusCommand,
  ls: listCommand,
  "resume-cancels": resumeCancelsCommand,
  gc: gcCommand,
  webhooks: webhooksCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    console.log(help);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-v") {
    console.log(cliVersion());
    return 0;
  }
  const command = commands[name];
  if (command === undefined)
    throw new UsageError(`unknown command ${JSON.stringify(name)}; see cleancut --help`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportFailure(error);
  },
);

/** Expected errors are one clear line and an exit code; only a real bug prints its stack. */
function reportFailure(error: unknown): number {
  const code = String((error as { code?: unknown }).code ?? "");
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError || code.startsWith("ERR_PARSE_ARGS_")) {
    // The code (usage, or parseArgs' ERR_PARSE_ARGS_UNKNOWN_OPTION…) lets a script tell mistakes apart.
    process.stderr.write(`cleancut: ${firstLine(message)} (${code})\n`);
    return 2;
  }
  if (isCleancutError(error)) {
    const hint = error.code === "network_error" ? " — is the server running, and is --endpoint right?" : "";
    process.stderr.write(`cleancut: ${message} (${error.code})${hint}\n`);
    return 1;
  }
  if (code === "EADDRINUSE") {
    process.stderr.write(`cleancut: ${message}: is another server running? try --port 0\n`);
    return 1;
  }
  if (code === "EACCES" || code === "ENOENT" || code === "ENOSPC") {
    process.stderr.write(`cleancut: ${message}\n`);
    return 1;
  }
  process.stderr.write(`cleancut: unexpected error\n${(error as Error)?.stack ?? String(error)}\n`);
  return 70;
}

/** parseArgs' messages may run over two lines (a hint on the second); the contract is one line. */
function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
