// Shared command-line plumbing: option parsing with usage errors, and the
// contract's global options.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parses one command's arguments; unknown options are usage errors (exit 2). */
export function parseCommandArgs<const O extends OptionSpec>(command: string, argv: string[], options: O, positionals = { min: 0, max: 0 }) {
  type Parsed = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
  let parsed = plainArgs(argv, options) as Parsed | undefined;
  try {
    parsed ??= parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`flint ${command}: ${(e as Error).message}`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    throw new UsageError(`flint ${command}: expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min} to ${positionals.max}`} argument(s), got ${count}`);
  }
  return parsed;
}

/** Value of a required string option. */
export function requireOption(command: string, name: string, value: string | undefined): string {
  if (value === undefined || value === "") throw new UsageError(`flint ${command}: --${name} is required`);
  return value;
}

/** Splits `--stages a,b` into names, rejecting unknown ones. */
export function parseList<T extends string>(command: string, option: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new UsageError(`flint ${command}: --${option}: unknown ${JSON.stringify(item)} (known: ${allowed.join(", ")})`);
  }
  return items as T[];
}

/**
 * The usual command line (positionals, `--name`, `--name value`, `--name=value`,
 * every name known) parsed as util.parseArgs would in strict mode, without
 * it: running parseArgs costs a start-up ~1 ms (its module is set up on first
 * use). Anything else (short options, `--`, unknown names, a missing or
 * dash-led value) returns undefined, and parseArgs parses it or says what is
 * wrong.
 */
export function plainArgs(argv: readonly string[], options: OptionSpec): { values: Record<string, string | boolean | (string | boolean)[]>; positionals: string[] } | undefined {
  // Defaults are parseArgs's to apply.
  for (const name in options) if (options[name]!.default !== undefined) return undefined;
  const values: Record<string, string | boolean | (string | boolean)[]> = Object.create(null);
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith("--") || arg.length === 2) return undefined;
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!Object.prototype.hasOwnProperty.call(options, name)) return undefined;
    const option = options[name]!;
    let value: string | boolean;
    if (option.type === "boolean") {
      if (eq !== -1) return undefined;
      value = true;
    } else if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("-")) return undefined;
      value = next;
      i++;
    }
    if (option.multiple) ((values[name] ??= []) as (string | boolean)[]).push(value);
    else values[name] = value;
  }
  return { values, positionals };
}
