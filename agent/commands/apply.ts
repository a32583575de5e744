// `flint apply --config FILE|- --root DIR [--stages LIST]`: Flint outside an
// initramfs. Parses the config (resolving its merge/replace references),
// runs the stages on a directory root, and writes the result report there.
// `flint plan` (plan.ts) shares all of this with dryRun set.

import { parseCommandArgs, parseList, requireOption } from "../cli";
import type { SourcedConfig } from "../config/index";
import { log } from "../log";
import { writeReport } from "../report";
import { parseDocument } from "../stages/fetch/document";
import { runStages, type RunOutcome } from "../stages/run";
import { ROOT_STAGE_ORDER, type RootStageName } from "../stages/index";
import { readConfigInput } from "./config-input";

export const DEFAULT_APPLY_STAGES: RootStageName[] = ["mount", "files", "umount"];

/** The config as the stages see it: parsed, translated to 3.x, references resolved, with where each part came from. */
export async function loadConfig(command: string, file: string, filesDir?: string): Promise<SourcedConfig & { specVersion: string }> {
  const label = file === "-" ? "stdin" : file;
  const parsed = parseDocument(readConfigInput(command, file), label, label, filesDir);
  const refs = parsed.config.ignition?.config;
  const resolved = refs?.replace?.source || refs?.merge?.length ? await (await import("../stages/fetch/references")).resolveConfigReferences(parsed) : parsed;
  return { ...resolved, specVersion: parsed.specVersion };
}

export interface ApplyArgs {
  config: string;
  root: string;
  stages: RootStageName[];
  /** Butane configs: where `local:` files are read from. */
  filesDir?: string;
}

export function parseApplyArgs(command: string, argv: string[]): ApplyArgs {
  const { values } = parseCommandArgs(command, argv, {
    config: { type: "string" },
    root: { type: "string" },
    stages: { type: "string" },
    "files-dir": { type: "string" },
  });
  return {
    ...(values["files-dir"] !== undefined ? { filesDir: values["files-dir"] } : {}),
    config: requireOption(command, "config", values.config),
    root: requireOption(command, "root", values.root),
    stages: values.stages === undefined ? DEFAULT_APPLY_STAGES : parseList(command, "stages", values.stages, ROOT_STAGE_ORDER),
  };
}

export async function applyOrPlan(command: string, args: ApplyArgs, dryRun: boolean): Promise<RunOutcome> {
  const { config, specVersion, sources } = await loadConfig(command, args.config, args.filesDir);
  return runStages(config, args.stages, { root: args.root, dryRun, specVersion, sources: async () => sources });
}

export async function run([command, ...argv]: string[]): Promise<number> {
  const args = parseApplyArgs(command!, argv);
  const { report, error } = await applyOrPlan(command!, args, false);
  try {
    await writeReport(args.root, report);
  } catch (e) {
    // The stage's own failure matters more than the report's.
    if (!error) throw e;
    log.warn(`could not write the result report: ${(e as Error).message}`);
  }
  if (error) throw error;
  const count = report.stages.reduce((n, s) => n + s.actions.length, 0);
  log.info(`applied: ${report.stages.map((s) => s.name).join(", ")} (${count} action(s))`, { root: args.root });
  return 0;
}
