// `flint translate [--experimental] [--strict] [--files-dir DIR] FILE|-`: prints
// an Ignition config in the newest 3.x spec, and a Butane config as the
// Ignition config Butane makes of it (in the spec version Butane uses).
// Warnings go to stderr; an invalid config prints its errors and exits 1.

import { parseCommandArgs } from "../cli";
import { ConfigInvalidError, parseConfig } from "../config/index";
import { EXIT_FAILED, EXIT_OK } from "../errors";
import { filesDir, printIssues, readConfigInput } from "./config-input";

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(command!, argv, { experimental: { type: "boolean" }, strict: { type: "boolean" }, "files-dir": { type: "string" } }, { min: 1, max: 1 });
  const file = positionals[0]!;
  const bytes = readConfigInput(command!, file);
  try {
    const parsed = parseConfig(bytes, { source: file, allowExperimental: values.experimental ?? false, strict: values.strict ?? false, ...filesDir(values["files-dir"]) });
    printIssues(parsed.warnings);
    process.stdout.write(JSON.stringify(parsed.butane?.ignition ?? parsed.config, null, 2) + "\n");
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof ConfigInvalidError)) throw e;
    printIssues([...e.errors, ...e.warnings]);
    return EXIT_FAILED;
  }
}
