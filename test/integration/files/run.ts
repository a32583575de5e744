// Runs stages in-process on a temp root, with the agent's log captured.

import { parseConfig } from "../../../agent/config/index";
import { describeError } from "../../../agent/errors";
import { configureLog } from "../../../agent/log";
import type { FlintReport } from "../../../agent/report";
import { runStages } from "../../../agent/stages/run";
import type { RootStageName } from "../../../agent/stages/index";

export const logLines: string[] = [];

/** Inside a describe: the agent's log goes to `logLines` (at debug level) and back to stderr after. */
export function useCapturedLog(): void {
  before(() => configureLog({ level: "debug", write: (line) => logLines.push(line) }));
  after(() => configureLog({ level: "info", write: (line) => process.stderr.write(line + "\n") }));
}

/** Applies `config` (an object or JSON text) to `root`; throws the stage's error. */
export async function applyConfig(root: string, config: object | string, stages: RootStageName[] = ["files"], dryRun = false): Promise<FlintReport> {
  const text = typeof config === "string" ? config : JSON.stringify(config);
  const { config: parsed, specVersion, sources } = parseConfig(text, { source: "test" });
  const { report, error } = await runStages(parsed, stages, { root, dryRun, specVersion, sources: async () => sources });
  if (error) throw error;
  return report;
}

/** The error message `applyConfig` fails with, or "no error". */
export async function applyFailure(root: string, config: object | string, stages: RootStageName[] = ["files"]): Promise<string> {
  try {
    await applyConfig(root, config, stages);
  } catch (e) {
    return describeError(e);
  }
  return "no error";
}

export function dataUrl(text: string | Buffer): string {
  return `data:;base64,${Buffer.from(text).toString("base64")}`;
}

export const V = "3.4.0";
