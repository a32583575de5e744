// `flint checkin [--failed] [--platform ID] [--cmdline-file F] [--reason-file F]`:
// what a platform wants once a first boot has ended. After success:
// the cloud's check-in (Azure's Ready health report, Equinix Metal's
// phone-home) and the config deleted where the hypervisor keeps it (VMware
// guestinfo, VirtualBox guest properties), as Ignition's
// ignition-delete-config does. After a failure (`--failed`): the check-in
// with the failure's one-line reason, which the failed stage left in
// /run/flint/failure. Run in the initramfs by flint-checkin.service and
// flint-checkin-failed.service (see docs/platforms.md); a platform with
// nothing to do exits 0 at once.

import { loadBootParams } from "../boot/cmdline";
import { parseCommandArgs } from "../cli";
import { FAILURE_FILE } from "../console/failure-summary";
import { log } from "../log";
import type { CheckInOutcome } from "../platforms/types";

/** When the failed stage left no reason (it was killed, or failed before it could write). */
const UNKNOWN_REASON = "Flint failed during the first boot (no reason recorded; see the console)";

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, {
    failed: { type: "boolean" },
    platform: { type: "string" },
    "cmdline-file": { type: "string" },
    "reason-file": { type: "string" },
  });
  const { canonicalPlatformId, detectPlatform, loadPlatform } = await import("../platforms/index");
  const { platformPaths } = await import("../platforms/paths");
  const requested = values.platform ?? loadBootParams(values["cmdline-file"]).platformId;
  const platformId = requested ? canonicalPlatformId(requested) : await detectPlatform(platformPaths().sysfs);
  const platform = await loadPlatform(platformId);
  const outcome: CheckInOutcome = values.failed ? { ok: false, reason: await failureReason(values["reason-file"] ?? FAILURE_FILE) } : { ok: true };
  const deleting = outcome.ok && platform.deleteConfig;
  if (!platform.checkIn && !deleting) {
    log.info(`the ${platformId} platform wants no check-in; nothing to do`);
    return 0;
  }
  const { createPlatformContext } = await import("../platforms/context");
  const ctx = createPlatformContext();
  if (platform.checkIn) {
    await platform.checkIn(ctx, outcome);
    log.info(`checked in with ${platformId}: ${outcome.ok ? "provisioned" : "failed"}`);
  }
  if (deleting) {
    await platform.deleteConfig!(ctx);
    log.info(`deleted the config from the ${platformId} hypervisor's store`);
  }
  return 0;
}

async function failureReason(path: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const text = await readFile(path, "utf8").catch(() => "");
  return text.split("\n")[0]!.trim() || UNKNOWN_REASON;
}
