// `flint cmdline`: print the parsed boot parameters as JSON.

import { loadBootParams } from "../boot/cmdline";
import { parseCommandArgs } from "../cli";

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, { "cmdline-file": { type: "string" } });
  const params = loadBootParams(values["cmdline-file"]);
  process.stdout.write(JSON.stringify(params, null, 2) + "\n");
  return 0;
}
