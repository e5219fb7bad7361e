import { UsageError } from "./usage-error.js";

/**
 * One command-line setting: its flag, the environment variables that can stand in for it, and
 * its help text. A command's table is the one place its parser options, its --help lines and the
 * error messages' names come from, so a flag cannot gain an environment variable the help omits.
 */
export interface Setting {
  /** Without the leading dashes: "port". */
  readonly flag: string;
  /** The value's placeholder in --help ("N", "URL"); absent for a boolean flag. */
  readonly arg?: string;
  readonly kind: "string" | "list" | "boolean";
  /** CLEANCUT_* first; conventional names (PORT, DATABASE_URL) after it, so the specific one wins. */
  readonly env: readonly string[];
  /** What the flag does; "\n" starts a continuation line. The env note is appended by the table. */
  readonly help: string;
}

/** A value and where it came from ("--port" or "CLEANCUT_PORT"): error messages name the latter. */
export interface Given<T> {
  readonly value: T;
  readonly from: string;
}

type ParseArgsOption = { type: "string" | "boolean"; multiple?: boolean };

export function parseArgsOptions(table: readonly Setting[]): Record<string, ParseArgsOption> {
  return Object.fromEntries(
    table.map((setting) => [
      setting.flag,
      setting.kind === "boolean"
        ? { type: "boolean" }
        : { type: "string", ...(setting.kind === "list" ? { multiple: true } : {}) },
    ]),
  );
}

const helpColumn = 24;

/** --help lines: flag and placeholder, then the text, then which environment variables set it. */
export function helpLines(table: readonly Setting[]): string {
  return table
    .map((setting) => {
      const head = `  --${setting.flag}${setting.arg === undefined ? "" : ` ${setting.arg}`}`;
      // The variables on a line of their own, so every flag shows them in the same place.
      const lines = [...setting.help.split("\n"), ...envNote(setting)];
      const first = head.length < helpColumn ? head.padEnd(helpColumn) : `${head}  `;
      return [first + lines[0], ...lines.slice(1).map((line) => " ".repeat(helpColumn) + line)].join("\n");
    })
    .join("\n");
}

function envNote(setting: Setting): string[] {
  if (setting.env.length === 0) return [];
  const names = setting.env.join(" or ");
  if (setting.kind === "list") return [`env ${names}, comma-separated`];
  if (setting.kind === "boolean") return [`env ${names}=1`];
  return [`env ${names}`];
}

const truthy = /^(1|true|yes|on)$/i;
const falsy = /^(0|false|no|off)$/i;

/** Flags first, then the environment; an empty variable (`FOO=` in a compose file) means unset. */
export class SettingsSource {
  private readonly byFlag: Map<string, Setting>;

  constructor(
    table: readonly Setting[],
    private readonly values: Readonly<Record<string, unknown>>,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.byFlag = new Map(table.map((setting) => [setting.flag, setting]));
  }

  string(flag: string): Given<string> | undefined {
    const value = this.values[flag];
    if (typeof value === "string") return { value, from: `--${flag}` };
    return this.fromEnv(flag);
  }

  list(flag: string): Given<string[]> | undefined {
    const value = this.values[flag];
    if (Array.isArray(value)) return { value: value.map(String), from: `--${flag}` };
    const given = this.fromEnv(flag);
    if (given === undefined) return undefined;
    const items = given.value
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== "");
    return { value: items, from: given.from };
  }

  boolean(flag: string): Given<boolean> | undefined {
    if (this.values[flag] === true) return { value: true, from: `--${flag}` };
    const given = this.fromEnv(flag);
    if (given === undefined) return undefined;
    if (truthy.test(given.value)) return { value: true, from: given.from };
    if (falsy.test(given.value)) return { value: false, from: given.from };
    throw new UsageError(`${given.from} must be 1 or 0 (true/false), got ${JSON.stringify(given.value)}`);
  }

  private fromEnv(flag: string): Given<string> | undefined {
    const setting = this.byFlag.get(flag);
    // A typo in a command's own code, not the user's: fail loudly.
    if (setting === undefined) throw new Error(`no setting --${flag} in this command's table`);
    for (const name of setting.env) {
      const value = this.env[name];
      if (value !== undefined && value !== "") return { value, from: name };
    }
    return undefined;
  }
}
