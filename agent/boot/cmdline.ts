// Turns a kernel command line into Flint's typed boot parameters, with the
// kernel's own rules: quoted values, last occurrence wins, `--` ends it.

import { readFileSync } from "node:fs";
import { FlintError, UsageError } from "../errors";
import { isLogLevel, type LogLevel } from "../log";

export interface BootParams {
  /** Provisioning is wanted on this boot. */
  firstBoot: boolean;
  /** GRUB found the ESP flag (`first_boot=detected`): only then is the flag quenched. */
  firstBootDetected: boolean;
  /** The placeholder disk GUID to replace with a random one, lowercase. */
  randomizeGuid?: string;
  /** The platform (`oem.id`), lowercase. */
  platformId?: string;
  /** Where the user config lives, overriding the platform's. */
  configUrl?: string;
  /** Flint's own verbosity switch (`flint.log=debug`). */
  logLevel?: LogLevel;
}

// Every spelling each parameter accepts; they are equal, the last one on the line wins.
const SPELLINGS = {
  firstBoot: ["flatcar.first_boot", "coreos.first_boot", "ignition.firstboot"],
  randomizeGuid: ["flatcar.randomize_guid", "flatcar.randomize_disk_guid", "coreos.randomize_disk_guid"],
  platformId: ["flatcar.oem.id", "coreos.oem.id", "ignition.platform.id"],
  configUrl: ["ignition.config.url", "flatcar.config.url", "coreos.config.url"],
  logLevel: ["flint.log"],
} as const;

const FALSE_VALUES = new Set(["", "0", "no", "off", "false", "n"]);
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const DEFAULT_CMDLINE_FILE = "/proc/cmdline";

/** Splits a command line into `key` / `key=value` arguments as the kernel does. */
export function tokenizeCmdline(text: string): string[] {
  const args: string[] = [];
  let current = "";
  let inQuotes = false;
  let started = false;
  for (const ch of text) {
    if (ch === '"') {
      inQuotes = !inQuotes;
      started = true;
    } else if (!inQuotes && /\s/.test(ch)) {
      if (started) args.push(current);
      current = "";
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (started) args.push(current);
  const end = args.indexOf("--");
  return end === -1 ? args : args.slice(0, end);
}

/** The value of each argument's last occurrence; a bare flag has value `null`. */
function lastValues(args: string[]): Map<string, string | null> {
  const values = new Map<string, string | null>();
  for (const arg of args) {
    const eq = arg.indexOf("=");
    const key = eq === -1 ? arg : arg.slice(0, eq);
    // Delete first so that iteration order is the order of last occurrence.
    values.delete(key);
    values.set(key, eq === -1 ? null : arg.slice(eq + 1));
  }
  return values;
}

/** The last occurrence among several spellings of one parameter. */
function pick(values: Map<string, string | null>, spellings: readonly string[]): { key: string; value: string | null } | undefined {
  let found: { key: string; value: string | null } | undefined;
  for (const [key, value] of values) {
    if (spellings.includes(key)) found = { key, value };
  }
  return found;
}

export function parseCmdline(text: string): BootParams {
  const values = lastValues(tokenizeCmdline(text));
  const params: BootParams = { firstBoot: false, firstBootDetected: false };

  const firstBoot = pick(values, SPELLINGS.firstBoot);
  if (firstBoot) {
    // A bare flag (`ignition.firstboot`) means yes, as in Ignition.
    const value = firstBoot.value === null ? "1" : firstBoot.value.toLowerCase();
    params.firstBoot = !FALSE_VALUES.has(value);
    params.firstBootDetected = value === "detected";
  }

  const guid = pick(values, SPELLINGS.randomizeGuid);
  if (guid && guid.value) {
    if (!GUID.test(guid.value)) throw new FlintError(`not a GUID (got ${JSON.stringify(guid.value)})`, `kernel argument ${guid.key}`);
    params.randomizeGuid = guid.value.toLowerCase();
  }

  const platform = pick(values, SPELLINGS.platformId);
  if (platform && platform.value) params.platformId = platform.value.toLowerCase();

  const url = pick(values, SPELLINGS.configUrl);
  if (url && url.value) params.configUrl = url.value;

  const level = pick(values, SPELLINGS.logLevel);
  if (level && level.value) {
    if (!isLogLevel(level.value)) throw new FlintError(`must be one of error, warn, info, debug (got ${JSON.stringify(level.value)})`, "kernel argument flint.log");
    params.logLevel = level.value;
  }
  return params;
}

export function readCmdline(file: string = DEFAULT_CMDLINE_FILE): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read kernel command line from ${file}: ${(e as Error).message}`);
  }
}

export function loadBootParams(file?: string): BootParams {
  return parseCmdline(readCmdline(file));
}
