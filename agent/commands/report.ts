// `flint report [--root DIR] [--json]`: shows the last run's result report.

import { parseCommandArgs } from "../cli";
import { FlintError } from "../errors";
import { formatReport, readReport } from "../report";
import { REPORT_PATH_IN_ROOT } from "../stages/context";

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, { root: { type: "string" }, json: { type: "boolean" } });
  const root = values.root ?? "/";
  const report = await readReport(root);
  if (!report) throw new FlintError("no result report: Flint has not run on this root", `${root.replace(/\/$/, "")}${REPORT_PATH_IN_ROOT}`);
  process.stdout.write(values.json ? JSON.stringify(report, null, 2) + "\n" : formatReport(report));
  return report.ok ? 0 : 1;
}
