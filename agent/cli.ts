// Shared command-line plumbing: option parsing with usage errors, and the
// contract's global options.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors";

type OptionSpec = NonNullable<ParseArgsConfig["options"]>;

/** Parses one command's arguments; unknown options are usage errors (exit 2). */
export function parseCommandArgs<const O extends OptionSpec>(command: string, argv: string[], options: O, positionals = { min: 0, max: 0 }) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
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
