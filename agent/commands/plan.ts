// `flint plan --config FILE|- --root DIR [--stages LIST]`: prints, in order,
// one line per action that apply would take, and changes nothing.

import { formatAction } from "../report";
import { applyOrPlan, parseApplyArgs } from "./apply";

export async function run([command, ...argv]: string[]): Promise<number> {
  const args = parseApplyArgs(command!, argv);
  const { report, error } = await applyOrPlan(command!, args, true);
  const lines = report.stages.flatMap((s) => s.actions.map(formatAction));
  if (lines.length) process.stdout.write(lines.join("\n") + "\n");
  if (error) throw error;
  return 0;
}
