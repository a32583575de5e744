// The disks stage, in Ignition's order: partitions, then RAID arrays, then
// LUKS volumes, then filesystems. The config's own rules (formats, names,
// levels, partition numbers) were checked by validation before the config
// was cached; what only this machine can tell (LUKS features Flint lacks,
// every disk's partition plan against its table, every device named twice
// under different names) is checked first, so a config that cannot work
// here leaves every disk as it was.

import type { Config } from "../../config/types";
import type { Stage, StageContext } from "../context";
import { checkLuks, createLuksVolumes } from "./luks";

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

  volumes.forEach((luks, i) => checkLuks(luks, `storage.luks.${i}`));
  await (await import("./device-uses")).checkDeviceUses(storage);

  if (disks.length > 0) {
    const { planDisks, applyDiskPlan } = await import("./partitions");
    const work = await planDisks(disks, context);
    for (const disk of work) await applyDiskPlan(disk, context);
  }
  if (raids.length > 0) await (await import("./raid")).createRaids(raids, context);
  if (volumes.length > 0) await createLuksVolumes(volumes, context, { keyDir: options.luksKeyDir });
  if (filesystems.length > 0) await (await import("./filesystems")).makeFilesystems(filesystems, context);
}

export const disksStage: Stage = (config: Config, context: StageContext) => runDisksStage(config, context);
