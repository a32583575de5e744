// What every stage receives besides the config: where the root is, where the
// cache lives, and the record of what the run did (for the result report).

import { dirname, join } from "node:path";
import type { Config } from "../config/types";

export const DEFAULT_CACHE = "/run/flint/config.json";
export const DEFAULT_ROOT = "/sysroot";
/** Beside the cache: which document each part of the cached config came from (texts included, so mode 0600). */
export const sourcesPathFor = (cachePath: string): string => join(dirname(cachePath), "config-sources.json");
export const REPORT_PATH_IN_ROOT = "/etc/.flint-result.json";

/** One thing a stage did or would do, shown by `flint plan` and kept in the report. */
export interface Action {
  /** create, replace, chmod, chown, link, enable, mask, useradd, mkfs, partition, mount… */
  kind: string;
  /** The path, device, unit or user it concerns. Never contents. */
  target: string;
  detail?: string;
}

/** Where a stage puts its actions: a list, or the runner's compact log. */
export interface ActionSink {
  push(...actions: Action[]): number;
}

/** SSH keys from the platform's metadata for one user; fetch leaves them beside the cache. */
export interface PlatformKeys {
  user: string;
  keys: string[];
}
export const PLATFORM_KEYS_FILE = "platform-keys.json";

export interface StageContext {
  /** The future root: `/sysroot` at boot, any directory with `--root`. */
  root: string;
  /** When true the stage only records actions and changes nothing (`flint plan`). */
  dryRun: boolean;
  /** Appended to as the stage works (an ActionLog in a run, see action-log.ts). */
  actions: ActionSink;
  /** The platform's SSH keys, when fetch found some (boot only). */
  platformKeys?: PlatformKeys;
  /** kargs: the OEM partition (else the one labelled OEM), the command line file, and where run-time state goes (/run/flint). */
  oemDevice?: string;
  cmdlineFile?: string;
  runDir?: string;
  /** Aborted when the run is cancelled (the boot agent's client went away): the stage stops at its next step. */
  signal?: AbortSignal;
}

export type Stage = (config: Config, context: StageContext) => Promise<void>;
