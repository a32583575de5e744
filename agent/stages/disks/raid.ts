// Software RAID: create each array with mdadm, or keep a running one that
// already matches the config (same level, same number of members).

import { RAID_LEVELS } from "../../config/index";
import type { Raid } from "../../config/types";
import { deviceForStep, waitForDevice } from "../../devices/resolve";
import { FlintError } from "../../errors";
import { log } from "../../log";
import type { StageContext } from "../context";

export function raidPath(name: string): string {
  return `/dev/md/${name}`;
}

/** mdadm's level name ("raid1") for any of the config's spellings (validation accepted only known ones). */
function canonicalLevel(level: string): string {
  return RAID_LEVELS[level]?.mdadm ?? level;
}

/**
 * An array made on an earlier boot is not running yet in a fresh initramfs
 * (without udev's incremental assembly): assemble it from the configured
 * devices when they all carry RAID superblocks. If that fails, the array is
 * created anew, as Ignition would.
 */
async function tryAssemble(path: string, devices: string[]): Promise<Record<string, string> | undefined> {
  const { probe } = await import("../../system/blkid");
  const found = await Promise.all(devices.map((d) => probe(d)));
  if (!found.every((f) => f.TYPE === "linux_raid_member")) return undefined;
  const mdadm = await import("../../system/mdadm");
  try {
    await mdadm.assemble(path, devices);
  } catch (e) {
    log.warn(`could not assemble ${path} from its members; creating it anew`, { reason: (e as Error).message.split("\n")[0] });
    return undefined;
  }
  return mdadm.detail(path);
}

export async function createRaids(raids: Raid[], context: StageContext): Promise<void> {
  for (const [index, raid] of raids.entries()) {
    const where = `storage.raid.${index}`;
    const path = raidPath(raid.name);
    const found = await Promise.all((raid.devices ?? []).map((d, i) => deviceForStep(d, context.dryRun, `${where}.devices.${i}`)));
    if (found.some((d) => d === undefined)) {
      context.actions.push({ kind: "raid", target: path, detail: `create ${raid.level} over ${(raid.devices ?? []).join(", ")} (devices not present yet)` });
      continue;
    }
    const devices = found as string[];
    const mdadm = await import("../../system/mdadm");
    let running = await mdadm.detail(path);
    if (!running && !context.dryRun) running = await tryAssemble(path, devices);
    if (running) {
      const level = running.MD_LEVEL;
      const members = Number(running.MD_DEVICES ?? NaN) + Number(running.MD_SPARES ?? 0);
      if (level !== canonicalLevel(raid.level!) || members !== devices.length) {
        throw new FlintError(`${path} already exists as ${level} with ${members} device(s), not ${canonicalLevel(raid.level!)} with ${devices.length}`, where);
      }
      log.info("keeping the existing RAID array", { array: path });
      context.actions.push({ kind: "raid", target: path, detail: "reuse existing" });
      continue;
    }
    context.actions.push({ kind: "raid", target: path, detail: `create ${raid.level} over ${devices.join(", ")}` });
    if (context.dryRun) continue;
    log.info(`creating RAID array ${path}`, { level: raid.level, devices: devices.join(",") });
    await mdadm.createArray({ path, level: raid.level!, devices, spares: raid.spares ?? 0, options: raid.options ?? [] });
    const { settle } = await import("../../system/udevadm");
    await settle();
    await waitForDevice(path);
  }
}
