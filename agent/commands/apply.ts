// `flint apply --config FILE|- --root DIR [--stages LIST]`: Flint outside an
// initramfs. Parses the config (resolving its merge/replace references),
// runs the stages on a directory root, and writes the result report there.
// `flint plan` (plan.ts) shares all of this with dryRun set.

import { parseCommandArgs, parseList, requireOption } from "../cli";
import { documentTree, placeLaterErrorsFrom, type SourcedConfig } from "../config/index";
import { NEWEST_SPEC } from "../config/types";
import { log } from "../log";
import { writeReport } from "../report";
import { actionsOf } from "../stages/action-log";
import { parseDocument } from "../stages/fetch/document";
import { runStages, type RunOutcome } from "../stages/run";
import { ROOT_STAGE_ORDER, type RootStageName } from "../stages/index";
import { readConfigInput } from "./config-input";

export const DEFAULT_APPLY_STAGES: RootStageName[] = ["mount", "files", "umount"];
/**
 * A plan also shows what kernelArguments would change; apply leaves the
 * kernel command line (the OEM partition of the machine it runs on) alone
 * unless `--stages` names kargs.
 */
export const DEFAULT_PLAN_STAGES: RootStageName[] = [...DEFAULT_APPLY_STAGES, "kargs"];

/** The config as the stages see it: parsed, translated to 3.x, references resolved, with where each part came from. */
export async function loadConfig(command: string, file: string, filesDir?: string): Promise<SourcedConfig & { specVersion: string }> {
  const label = file === "-" ? "stdin" : file;
  const bytes = readConfigInput(command, file);
  if (bytes.length === 0) {
    // Ignition takes a config of 0 bytes as none given, not as an error (`flint validate` still calls it empty, as ignition-validate does).
    log.info(`${label} is empty (0 bytes): no config, nothing to apply`);
    return { config: { ignition: { version: NEWEST_SPEC } }, sources: documentTree({ name: label }), specVersion: NEWEST_SPEC };
  }
  // The bytes are read for this parse only: released once decoded.
  const parsed = parseDocument(bytes, label, label, filesDir, true);
  const refs = parsed.config.ignition?.config;
  if (refs?.replace?.source || refs?.merge?.length) return { ...(await (await import("../stages/fetch/references")).resolveConfigReferences(parsed)), specVersion: parsed.specVersion };
  if (file !== "-") placeLaterErrorsFrom(parsed.sources, file);
  return parsed;
}

export interface ApplyArgs {
  config: string;
  root: string;
  stages: RootStageName[];
  /** Butane configs: where `local:` files are read from. */
  filesDir?: string;
  /** kargs: the OEM partition to edit (else the one labelled OEM) and the command line to compare with. */
  oemDevice?: string;
  cmdlineFile?: string;
}

export function parseApplyArgs(command: string, argv: string[]): ApplyArgs {
  const { values } = parseCommandArgs(command, argv, {
    config: { type: "string" },
    root: { type: "string" },
    stages: { type: "string" },
    "files-dir": { type: "string" },
    "oem-device": { type: "string" },
    "cmdline-file": { type: "string" },
  });
  const defaults = command === "plan" ? DEFAULT_PLAN_STAGES : DEFAULT_APPLY_STAGES;
  return {
    ...(values["files-dir"] !== undefined ? { filesDir: values["files-dir"] } : {}),
    config: requireOption(command, "config", values.config),
    root: requireOption(command, "root", values.root),
    stages: values.stages === undefined ? defaults : parseList(command, "stages", values.stages, ROOT_STAGE_ORDER),
    oemDevice: values["oem-device"],
    cmdlineFile: values["cmdline-file"],
  };
}

export async function applyOrPlan(command: string, args: ApplyArgs, dryRun: boolean): Promise<RunOutcome> {
  const { config, specVersion, sources } = await loadConfig(command, args.config, args.filesDir);
  return runStages(config, args.stages, { root: args.root, dryRun, specVersion, sources: async () => sources, oemDevice: args.oemDevice, cmdlineFile: args.cmdlineFile });
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
  const count = report.stages.reduce((n, s) => n + actionsOf(s).length, 0);
  log.info(`applied: ${report.stages.map((s) => s.name).join(", ")} (${count} action(s))`, { root: args.root });
  return 0;
}
