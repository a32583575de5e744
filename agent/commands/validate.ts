// `flint validate [--json] [--experimental] [--strict] [--files-dir DIR] FILE|-...`:
// checks configs (Ignition JSON or Butane YAML) without applying them.
// Exit 0 when every config is valid, 1 when one is invalid, 2 when one cannot be read.

import { parseCommandArgs } from "../cli";
import { ConfigInvalidError, parseConfig, type ConfigIssue, type ParseOptions } from "../config/index";
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError } from "../errors";
import { writeStderr } from "../log";
import { filesDir, issueJson, printIssues, readConfigInput } from "./config-input";

interface Outcome {
  file: string;
  status: number;
  specVersion?: string;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
  /** Set when the file could not be read. */
  readError?: string;
}

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(command!, argv, { json: { type: "boolean" }, experimental: { type: "boolean" }, strict: { type: "boolean" }, "files-dir": { type: "string" } }, { min: 1, max: Infinity });
  const options: ParseOptions = { allowExperimental: values.experimental ?? false, strict: values.strict ?? false, ...filesDir(values["files-dir"]) };
  const outcomes = positionals.map((file) => check(command!, file, options));
  const several = outcomes.length > 1;
  for (const o of outcomes) {
    if (values.json) {
      const body = { file: o.file, valid: o.status === EXIT_OK, ...(o.specVersion ? { specVersion: o.specVersion } : {}), ...(o.readError ? { readError: o.readError } : {}), errors: o.errors.map(issueJson), warnings: o.warnings.map(issueJson) };
      process.stdout.write(JSON.stringify(body) + "\n");
    } else if (o.readError) {
      writeStderr(`${o.readError}\n`);
    } else {
      printIssues([...o.errors, ...o.warnings], several ? `${o.file}: ` : "");
    }
  }
  return Math.max(...outcomes.map((o) => o.status));
}

function check(command: string, file: string, options: ParseOptions): Outcome {
  let bytes: Buffer;
  try {
    bytes = readConfigInput(command, file);
  } catch (e) {
    if (e instanceof UsageError) return { file, status: EXIT_USAGE, errors: [], warnings: [], readError: e.message };
    throw e;
  }
  try {
    const parsed = parseConfig(bytes, { ...options, source: file, releaseInput: true });
    return { file, status: EXIT_OK, specVersion: parsed.specVersion, errors: [], warnings: parsed.warnings };
  } catch (e) {
    if (e instanceof ConfigInvalidError) return { file, status: EXIT_FAILED, errors: e.errors, warnings: e.warnings };
    throw e;
  }
}
