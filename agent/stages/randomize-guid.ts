// Disk GUID randomization: Flatcar images ship with a placeholder GPT disk
// GUID; on the first boot GRUB names it on the command line and this gives
// that disk a random one (after moving the backup GPT to the end of a disk
// that is larger than the image was), so every machine's disk is unique.

import { randomUUID } from "node:crypto";
import { FlintError } from "../errors";
import { log } from "../log";

export const PLACEHOLDER_DISK_GUID = "00000000-0000-0000-0000-000000000001";

/** Whole disks (not partitions) whose GPT disk GUID is `guid`; `candidates` restricts the scan. */
export async function findDisksWithGuid(guid: string, candidates?: string[]): Promise<string[]> {
  const { wholeDisks } = await import("../devices/disks");
  const { readDiskGuid } = await import("../devices/gpt");
  const devices = candidates ?? (await wholeDisks());
  const wanted = guid.toLowerCase();
  const found: string[] = [];
  for (const device of devices) {
    // The GPT on the device itself: udev's record of it may not exist yet.
    if ((await readDiskGuid(device))?.toLowerCase() === wanted) found.push(device);
  }
  return found;
}

export interface RandomizeResult {
  device?: string;
  newGuid?: string;
}

/**
 * Gives the disk whose GUID is `guid` a random one. No such disk means there
 * is nothing to do (already done on an earlier boot): not an error.
 */
export async function randomizeDiskGuid(guid: string, options: { devices?: string[]; newGuid?: string } = {}): Promise<RandomizeResult> {
  const disks = await findDisksWithGuid(guid, options.devices);
  log.debug(`disks with the GUID: ${disks.join(", ") || "none"}`);
  if (disks.length === 0) {
    log.info(`no disk has the GUID ${guid}; nothing to do`);
    return {};
  }
  if (disks.length > 1) throw new FlintError(`more than one disk has the GUID ${guid} (${disks.join(", ")}); refusing to guess`, "randomize-guid");
  const device = disks[0]!;
  const newGuid = options.newGuid ?? randomUUID();
  const { setDiskGuid } = await import("../devices/gpt");
  const { partitionDirs, settleDisk } = await import("../devices/udev");
  const before = await partitionDirs(device).catch(() => new Map<string, bigint>());
  await setDiskGuid(device, newGuid);
  log.debug("wrote the GPT headers", { device });
  // Only the GPT's headers changed, not the partitions; but udev has the
  // kernel re-read them, and the next stages need their links back.
  await settleDisk(device, before);
  log.info(`gave ${device} the random disk GUID ${newGuid}`, { device, old: guid });
  return { device, newGuid };
}
