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
  const { wholeDevices } = await import("../system/lsblk");
  const { probe } = await import("../system/blkid");
  const devices = candidates ?? (await wholeDevices()).filter((d) => d.sizeBytes > 0 && d.type !== "rom").map((d) => d.path);
  const wanted = guid.toLowerCase();
  const found: string[] = [];
  for (const device of devices) {
    // Probe the device itself: lsblk only knows PTUUID from udev's database, which may not exist yet.
    const fields = await probe(device).catch(() => ({}) as Record<string, string>);
    if (fields.PTTYPE === "gpt" && fields.PTUUID?.toLowerCase() === wanted) found.push(device);
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
  if (disks.length === 0) {
    log.info(`no disk has the GUID ${guid}; nothing to do`);
    return {};
  }
  if (disks.length > 1) throw new FlintError(`more than one disk has the GUID ${guid} (${disks.join(", ")}); refusing to guess`, "randomize-guid");
  const device = disks[0]!;
  const newGuid = options.newGuid ?? randomUUID();
  const sgdisk = await import("../system/sgdisk");
  const { updateAll } = await import("../system/partx");
  const { settle } = await import("../system/udevadm");
  await sgdisk.moveBackupAndSetDiskGuid(device, newGuid);
  await updateAll(device);
  await settle();
  log.info(`gave ${device} the random disk GUID ${newGuid}`, { device, old: guid });
  return { device, newGuid };
}
