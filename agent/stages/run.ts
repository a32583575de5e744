// The stage runner shared by `apply`, `plan`, the per-stage commands and
// the agent: runs root stages in their fixed order, times each, records its
// actions into a result report, and stops at the first failure.

import { readBootId } from "../boot/boot-id";
import type { SourceTree } from "../config/index";
import type { Config } from "../config/types";
import { describeError, FlintError } from "../errors";
import { log } from "../log";
import { currentScope, inScope } from "../scope";
import { useRunConfigSecrets } from "../secrets";
import { REPORT_FORMAT, type FlintReport, type StageRecord } from "../report";
import { VERSION } from "../version";
import { ActionLog, attachActions } from "./action-log";
import type { PlatformKeys, StageContext } from "./context";
import { ROOT_STAGE_ORDER, STAGES, type RootStageName } from "./index";

async function bootId(): Promise<string | undefined> {
  try {
    return await readBootId();
  } catch {
    return undefined;
  }
}

export interface RunOutcome {
  report: FlintReport;
  /** The first failure, rethrown by callers after the report is written. */
  error?: unknown;
}

/**
 * Runs the named stages in the fixed order disks → mount → files → umount.
 * Stops at the first failure; if filesystems were mounted by then, still
 * unmounts them so nothing is left mounted under the root.
 */
export interface RunOptions {
  root: string;
  dryRun: boolean;
  specVersion?: string;
  /** Where each part of the config came from; read only when a stage fails. */
  sources?: () => Promise<SourceTree | undefined>;
  /** The platform's SSH keys fetch found (boot only; the files stage writes them). */
  platformKeys?: PlatformKeys;
  /** Passed to the stages (kargs): see StageContext. */
  oemDevice?: string;
  cmdlineFile?: string;
  runDir?: string;
  /** Cancels the run (the boot agent's request): the stage stops, then what it mounted is unmounted. */
  signal?: AbortSignal;
}

export async function runStages(config: Config, names: RootStageName[], options: RunOptions): Promise<RunOutcome> {
  const report: FlintReport = {
    format: REPORT_FORMAT,
    flintVersion: VERSION,
    bootId: await bootId(),
    specVersion: options.specVersion,
    startedAt: new Date().toISOString(),
    finishedAt: "",
    ok: true,
    stages: [],
  };
  useRunConfigSecrets(config);
  const ordered = ROOT_STAGE_ORDER.filter((n) => names.includes(n));
  let error: unknown;
  for (const name of ordered) {
    error = await runOne(config, name, options, report);
    if (error) break;
  }
  // What this run mounted is unmounted after a failure (a cancellation too:
  // the mount stage may have stopped half-way), even if umount was not asked for.
  const mounted = report.stages.some((s) => s.name === "mount");
  if (error && mounted && !report.stages.some((s) => s.name === "umount") && !options.dryRun) {
    log.warn("unmounting after the failure");
    // Not cancellable: the clean-up is what the cancellation still owes.
    const scope = currentScope();
    await inScope({ ...scope, signal: undefined }, () => runOne(config, "umount", { ...options, signal: undefined }, report));
  }
  report.finishedAt = new Date().toISOString();
  report.ok = report.stages.every((s) => s.ok);
  return { report, error };
}

async function runOne(config: Config, name: RootStageName, options: RunOptions, report: FlintReport): Promise<unknown> {
  const actions = new ActionLog();
  const ctx: StageContext = { root: options.root, dryRun: options.dryRun, actions, platformKeys: options.platformKeys, oemDevice: options.oemDevice, cmdlineFile: options.cmdlineFile, runDir: options.runDir, signal: options.signal };
  const startedAt = new Date();
  const started = process.hrtime.bigint();
  let error: unknown;
  try {
    options.signal?.throwIfAborted();
    log.info(`stage ${name}${options.dryRun ? " (plan)" : ""}`, { root: options.root });
    const stage = await STAGES[name]();
    await stage(config, ctx);
  } catch (e) {
    error = await placeError(e, config, options.sources);
  }
  const record: StageRecord = {
    name,
    startedAt: startedAt.toISOString(),
    durationMs: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
    ok: error === undefined,
    ...(error === undefined ? {} : { error: describeError(error) }),
    actions: [],
  };
  report.stages.push(attachActions(record, actions));
  return error;
}

/**
 * An error about a config path, re-addressed to the document, line and
 * column it came from, and what it is about. Describing an error never
 * fails the run a second time: if the config cannot be read again (it
 * changed meanwhile), the error stays as it was, so that the unmount after
 * a failure and the report still happen.
 */
async function placeError(err: unknown, config: Config, sources: RunOptions["sources"]): Promise<unknown> {
  if (!(err instanceof FlintError) || !err.where) return err;
  try {
    const { describePlace, parseConfigPath } = await import("../config/index");
    if (!parseConfigPath(err.where)) return err;
    const tree = await sources?.().catch((e: Error) => log.debug(`cannot read where the config came from: ${e.message}`));
    return new FlintError(err.message, describePlace(config, err.where, tree ?? undefined), { cause: err });
  } catch (e) {
    log.debug(`cannot say where in the config ${err.where} is: ${(e as Error).message}`);
    return err;
  }
}
