// `flint apply --config FILE|- --root DIR [--stages LIST]`: Flint outside an
// initramfs. Parses the config (resolving its merge/replace references),
// runs the stages on a directory root, and writes the result report there.
// `flint plan` (plan.ts) shares all of this with dryRun set.

import { readFile } from "node:fs/promises";
import { parseCommandArgs, parseList, requireOption } from "../cli";
import { parseConfig } from "../config/index";
import type { Config } from "../config/types";
import { UsageError } from "../errors";
import { log } from "../log";
import { writeReport } from "../report";
import { runStages, type RunOutcome } from "../stages/run";
import { ROOT_STAGE_ORDER, type RootStageName } from "../stages/index";

export const DEFAULT_APPLY_STAGES: RootStageName[] = ["mount", "files", "umount"];

async function readConfigText(command: string, file: string): Promise<Buffer> {
  try {
    if (file === "-") {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    return await readFile(file);
  } catch (e) {
    throw new UsageError(`flint ${command}: cannot read the config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The config as the stages see it: parsed, translated to 3.x, references resolved. */
export async function loadConfig(command: string, file: string): Promise<{ config: Config; specVersion: string }> {
  const text = await readConfigText(command, file);
  const parsed = parseConfig(text, { source: file === "-" ? "stdin" : file });
  for (const w of parsed.warnings) log.warn(`${w.path.join(".")}: ${w.message}`, { source: file });
  let config = parsed.config;
  const refs = config.ignition?.config;
  if (refs?.replace?.source || refs?.merge?.length) {
    const { resolveConfigReferences } = await import("../stages/fetch/references");
    config = await resolveConfigReferences(config);
  }
  return { config, specVersion: parsed.specVersion };
}

export interface ApplyArgs {
  config: string;
  root: string;
  stages: RootStageName[];
}

export function parseApplyArgs(command: string, argv: string[]): ApplyArgs {
  const { values } = parseCommandArgs(command, argv, {
    config: { type: "string" },
    root: { type: "string" },
    stages: { type: "string" },
  });
  return {
    config: requireOption(command, "config", values.config),
    root: requireOption(command, "root", values.root),
    stages: values.stages === undefined ? DEFAULT_APPLY_STAGES : parseList(command, "stages", values.stages, ROOT_STAGE_ORDER),
  };
}

export async function applyOrPlan(command: string, args: ApplyArgs, dryRun: boolean): Promise<RunOutcome> {
  const { config, specVersion } = await loadConfig(command, args.config);
  return runStages(config, args.stages, { root: args.root, dryRun, specVersion });
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
