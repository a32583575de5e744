// The disks stage, in Ignition's order: partitions, then RAID arrays, then
// LUKS volumes, then filesystems. Everything that can be checked without
// touching a disk (formats, names, every disk's partition plan) is checked
// first, so a bad config leaves every disk as it was; so is every device
// named twice under different names.

import type { Config } from "../../config/types";
import type { Stage, StageContext } from "../context";
import { checkFilesystem } from "./filesystems";
import { checkLuks } from "./luks";
import { checkRaid } from "./raid";

export interface DisksStageOptions {
  /** Where LUKS key files are kept during the run (default /run/flint/luks). */
  luksKeyDir?: string;
}

export async function runDisksStage(config: Config, context: StageContext, options: DisksStageOptions = {}): Promise<void> {
  const storage = config.storage ?? {};
  const disks = storage.disks ?? [];
  const raids = storage.raid ?? [];
  const volumes = storage.luks ?? [];
  const filesystems = storage.filesystems ?? [];
  if (disks.length + raids.length + volumes.length + filesystems.filter((f) => f.format !== undefined).length === 0) return;

  raids.forEach((raid, i) => checkRaid(raid, `storage.raid.${i}`));
  volumes.forEach((luks, i) => checkLuks(luks, `storage.luks.${i}`));
  filesystems.forEach((fs, i) => checkFilesystem(fs, `storage.filesystems.${i}`));
  await (await import("./device-uses")).checkDeviceUses(storage);

  if (disks.length > 0) {
    const { planDisks, applyDiskPlan } = await import("./partitions");
    const work = await planDisks(disks, context);
    for (const disk of work) await applyDiskPlan(disk, context);
  }
  if (raids.length > 0) await (await import("./raid")).createRaids(raids, context);
  if (volumes.length > 0) await (await import("./luks")).createLuksVolumes(volumes, context, { keyDir: options.luksKeyDir });
  if (filesystems.length > 0) await (await import("./filesystems")).makeFilesystems(filesystems, context);
}

export const disksStage: Stage = (config: Config, context: StageContext) => runDisksStage(config, context);
