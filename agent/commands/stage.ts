// `flint disks|mount|files|umount|kargs --root DIR [--cache PATH]`: one stage,
// at boot, on the config that fetch cached (kargs also takes --oem-device and
// --cmdline-file, and leaves its reboot marker beside the cache). Each run folds its stage into the
// root's result report, so after the boot `flint report` shows them all.

import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { parseCommandArgs } from "../cli";
import { BIG_CONFIG_BYTES, MAX_CONFIG_BYTES, tooLarge } from "../config/limits";
import type { Config } from "../config/types";
import { FlintError } from "../errors";
import { log } from "../log";
import { currentScope, fileStamp } from "../scope";
import { mergeReports, readReport, writeReport, type FlintReport } from "../report";
import { writeRunFile } from "../stages/run-files";
import { runStages } from "../stages/run";
import { DEFAULT_CACHE, DEFAULT_ROOT, sourcesPathFor, PLATFORM_KEYS_FILE, type PlatformKeys } from "../stages/context";
import type { RootStageName } from "../stages/index";

/**
 * The cached config. In the boot agent, the one fetch cached is in the
 * session (scope.ts), and is taken from there as long as the file is the one
 * fetch wrote: no stage parses the config again. Elsewhere (and in an agent
 * whose fetch did not run) the file is parsed, and kept in the session.
 */
async function readCachedConfig(path: string): Promise<Config> {
  const session = currentScope().session;
  let text: string;
  let stamp: string;
  try {
    const st = await stat(path);
    // fetch wrote it from configs each within the cap; a bigger one is not fetch's.
    if (st.size > MAX_CONFIG_BYTES) throw new FlintError(tooLarge(st.size), path);
    stamp = fileStamp(st);
    if (session?.config?.path === path && session.config.stamp === stamp) return session.config.config;
    text = await readFile(path, "utf8");
  } catch (e) {
    if (e instanceof FlintError) throw e;
    throw new FlintError(`no cached config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); run flint fetch first`, path);
  }
  try {
    // Written by fetch: already validated, translated and merged. A big one's storage lists are spooled, not held as objects.
    const config = (text.length > BIG_CONFIG_BYTES ? (await import("../config/text")).parseCachedConfig(text, dirname(path)) : JSON.parse(text)) as Config;
    log.debug("config read from the cache", { path });
    if (session) session.config = { path, stamp, config };
    return config;
  } catch (e) {
    throw new FlintError(`the cached config is not valid JSON: ${(e as Error).message}`, path);
  }
}

export async function run([command, ...argv]: string[]): Promise<number> {
  const name = command as RootStageName;
  const { values } = parseCommandArgs(name, argv, {
    root: { type: "string" },
    cache: { type: "string" },
    ...(name === "kargs" ? { "oem-device": { type: "string" }, "cmdline-file": { type: "string" } } : {}),
  } as const);
  const root = values.root ?? DEFAULT_ROOT;
  const cache = values.cache ?? DEFAULT_CACHE;
  const config = await readCachedConfig(cache);
  const sources = async () => (await import("../config/index")).parseSources(await readFile(sourcesPathFor(cache), "utf8"));
  const platformKeys = await readPlatformKeys(join(dirname(cache), PLATFORM_KEYS_FILE));
  const kargs = values as { "oem-device"?: string; "cmdline-file"?: string };
  const { report, error } = await runStages(config, [name], { root, dryRun: false, sources, platformKeys, oemDevice: kargs["oem-device"], cmdlineFile: kargs["cmdline-file"], runDir: dirname(cache), signal: currentScope().signal });
  try {
    await recordStage(name, root, join(dirname(cache), "report.json"), report);
  } catch (e) {
    if (!error) throw e;
    log.warn(`could not write the result report: ${(e as Error).message}`);
  }
  if (error) throw error;
  return 0;
}

/**
 * The boot's report is kept beside the cache (the root is not mounted yet
 * when disks runs) and copied into the root by every later stage.
 */
async function recordStage(name: RootStageName, root: string, runReport: string, report: FlintReport): Promise<void> {
  const previous = await readJson(runReport);
  const merged = mergeReports(previous, report);
  await writeRunFile(runReport, JSON.stringify(merged, null, 2) + "\n", 0o600);
  if (name !== "disks") await writeReport(root, mergeReports(await readReport(root).catch(() => undefined), merged));
}

/** The platform's SSH keys fetch left beside the cache, if any. */
async function readPlatformKeys(path: string): Promise<PlatformKeys | undefined> {
  let text: string;
  try {
    const { size } = await stat(path);
    // fetch wrote it from configs each within the cap; a bigger one is not fetch's.
    if (size > MAX_CONFIG_BYTES) throw new FlintError(tooLarge(size), path);
    text = await readFile(path, "utf8");
  } catch (e) {
    if (e instanceof FlintError) throw e;
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FlintError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
  let value: Partial<PlatformKeys>;
  try {
    value = JSON.parse(text) as Partial<PlatformKeys>;
  } catch (e) {
    throw new FlintError(`not valid JSON: ${(e as Error).message}`, path);
  }
  if (typeof value?.user !== "string" || !Array.isArray(value.keys) || !value.keys.every((k) => typeof k === "string")) {
    throw new FlintError("not a platform keys record ({ user, keys })", path);
  }
  return { user: value.user, keys: value.keys };
}

async function readJson(path: string): Promise<FlintReport | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as FlintReport;
  } catch {
    return undefined;
  }
}
