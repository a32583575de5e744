// The fetch-offline and fetch stages: assemble the config and cache it for the
// later stages. fetch-offline defers to fetch (via the `neednet` marker) when
// anything needs the network; fetch does nothing if a cache already exists.

import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { serializeSources } from "../../config/index";
import type { Config } from "../../config/types";
import { log } from "../../log";
import { platformPaths } from "../../platforms/paths";
import { NeedsNetworkError } from "../../resource/index";
import { PLATFORM_KEYS_FILE, sourcesPathFor, type PlatformKeys } from "../context";
import { writeRunFile } from "../run-files";
import { assembleConfig, SSH_KEYS_USER } from "./assemble";
import { RECORD_FILE, type FetchRecord } from "./record";

export interface FetchStageOptions {
  command: "fetch-offline" | "fetch";
  platformId: string;
  configUrl?: string;
  /** The config cache; the `neednet` marker and `fetch-record.json` go next to it. */
  cachePath: string;
  env?: NodeJS.ProcessEnv;
  /** Told the config as it was cached (the boot agent hands it to the later stages). */
  cached?: (config: Config) => Promise<void>;
}

export type FetchOutcome = "cached" | "already-cached" | "needs-network";

export const NEEDNET_MARKER = "neednet";
/** Left when the config has kernelArguments: flint-kargs.service runs (a Node start) only then. */
export const NEEDKARGS_MARKER = "needkargs";

export async function runFetchStage(options: FetchStageOptions): Promise<FetchOutcome> {
  const runDir = dirname(options.cachePath);
  if (await exists(options.cachePath)) {
    log.info("the config is already cached; nothing to fetch", { cache: options.cachePath });
    return "already-cached";
  }
  const offline = options.command === "fetch-offline";
  let assembled;
  try {
    assembled = await assembleConfig({
      platformId: options.platformId,
      configUrl: options.configUrl,
      offline,
      paths: platformPaths(options.env),
      env: options.env,
    });
  } catch (e) {
    if (offline && e instanceof NeedsNetworkError) {
      await mkdir(runDir, { recursive: true });
      await writeFile(join(runDir, NEEDNET_MARKER), "");
      log.info(`the network is needed (${e.message}); leaving the rest to flint fetch`, { marker: join(runDir, NEEDNET_MARKER) });
      return "needs-network";
    }
    throw e;
  }
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const record: FetchRecord = { command: options.command, platform: options.platformId, sources: assembled.sources };
  await writeRunFile(join(runDir, RECORD_FILE), JSON.stringify(record, null, 2) + "\n", 0o644);
  await writeRunFile(sourcesPathFor(options.cachePath), serializeSources(assembled.origins) + "\n", 0o600);
  if (assembled.platformKeys.length) {
    const keys: PlatformKeys = { user: SSH_KEYS_USER, keys: assembled.platformKeys };
    await writeRunFile(join(runDir, PLATFORM_KEYS_FILE), JSON.stringify(keys) + "\n", 0o644);
  }
  await writeRunFile(options.cachePath, JSON.stringify(assembled.config) + "\n", 0o600);
  await options.cached?.(assembled.config);
  const kargs = assembled.config.kernelArguments;
  if (kargs?.shouldExist?.length || kargs?.shouldNotExist?.length) await writeFile(join(runDir, NEEDKARGS_MARKER), "");
  log.info("config cached", { cache: options.cachePath, sources: assembled.sources.length });
  return "cached";
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}
