import { isCleancutError } from "@cleancut/core";
import { serveCommand } from "./commands/serve.js";
import { UsageError } from "./usage-error.js";

const help = `cleancut — segmented video uploads that cancel cleanly

Usage: cleancut <command> [options]

Commands:
  serve     start the upload service (cleancut serve --help)

Run "cleancut <command> --help" for a command's options.`;

const commands: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help" || name === "help") {
    console.log(help);
    return name === undefined ? 2 : 0;
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
    // Expected errors are one clear line; only a real bug prints its stack.
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
    ) {
      process.stderr.write(`cleancut: ${(error as Error).message}\n`);
      process.exitCode = 2;
    } else if (isCleancutError(error)) {
      process.stderr.write(`cleancut: ${error.message} (${error.code})\n`);
      process.exitCode = 1;
    } else if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      process.stderr.write(
        `cleancut: ${(error as Error).message}: is another server running? try --port 0\n`,
      );
      process.exitCode = 1;
    } else {
      process.stderr.write(`cleancut: unexpected error\n${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 70;
    }
  },
);
