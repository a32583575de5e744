// `/etc/.ignition-result.json`, written as Ignition writes it at the end of
// its files stage: the boot that provisioned the machine, when, and whether
// a user config was given. Flatcar's units read it (ignition-delete-config
// compares provisioningBootID with the boot id and checks
// userConfigProvided; update-ssh-keys-after-ignition and the cloud-init
// hand-off look for it), so its keys, format and mode are Ignition's:
// JSON indented by two spaces and a newline, mode 0600, root's. Flint's own
// report (report.ts) stays beside it.

import { BOOT_ID_FILE, readBootId } from "./boot/boot-id";
import { FlintError } from "./errors";
import { log } from "./log";
import { readRootFile } from "./root/read";
import { writeRootFile } from "./root/write";
import type { StageContext } from "./stages/context";
import { recordedUserConfig } from "./stages/fetch/record";

export const IGNITION_RESULT_PATH = "/etc/.ignition-result.json";

export interface IgnitionResult {
  provisioningBootID: string;
  /** RFC 3339 in the machine's time zone, to the second, as Go's time.RFC3339. */
  provisioningDate: string;
  /** True when fetch used a user config: one from the platform, the kernel command line or the image, or a config one of them referenced. */
  userConfigProvided: boolean;
  /** The result a run before this one left (Ignition keeps it when it runs again on the same root). */
  previousReport?: unknown;
}

/** A previous result nests the ones before it; a few KiB each. More than this is not one Ignition or Flint wrote. */
const RESULT_CAP = 1024 * 1024;

/** Writes the result file into the root (files stage, at boot: `runDir` holds fetch's record). */
export async function writeIgnitionResult(ctx: StageContext & { runDir: string }): Promise<void> {
  const previous = readRootFile(ctx.root, IGNITION_RESULT_PATH, RESULT_CAP);
  ctx.actions.push({ kind: previous ? "replace" : "create", target: IGNITION_RESULT_PATH, detail: "mode=0600 owner=0:0" });
  if (ctx.dryRun) return;
  let bootId: string;
  try {
    bootId = await readBootId();
  } catch (e) {
    throw new FlintError(`cannot read the boot id: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, BOOT_ID_FILE);
  }
  const result: IgnitionResult = {
    provisioningBootID: bootId,
    provisioningDate: rfc3339(new Date()),
    userConfigProvided: await recordedUserConfig(ctx.runDir),
  };
  if (previous) {
    log.warn("Ignition or Flint has already provisioned this root: running again may not do what the config says on a fresh machine");
    try {
      result.previousReport = JSON.parse(previous.toString("utf8"));
    } catch (e) {
      throw new FlintError(`the previous result is not JSON (${(e as Error).message}); remove it to provision this root again`, IGNITION_RESULT_PATH);
    }
  }
  await writeRootFile(ctx.root, IGNITION_RESULT_PATH, JSON.stringify(result, null, 2) + "\n", 0o600);
}

/** `2026-12-08T01:02:03Z`, or with the offset (`+01:00`) outside UTC: Go's time.RFC3339 of a local time. */
export function rfc3339(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const zone = offset === 0 ? "Z" : `${offset > 0 ? "+" : "-"}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}${zone}`;
}
