// partx: telling the kernel about changed partitions one by one (BLKPG), which
// works where a whole-table re-read does not (loop devices, disks in use).
// The only caller of partx.

import { run } from "./exec";

/** Removes the kernel's partition `number` (nothing to do when it has none); fails while the partition is open. */
export async function removePartition(device: string, number: number): Promise<void> {
  await run("partx", ["--delete", "--nr", String(number), "--", device]);
}

/** Updates the kernel's view of partition `number`, adding it when the kernel does not have it yet. */
export async function refreshPartition(device: string, number: number, exists: boolean): Promise<void> {
  if (!exists) {
    // sgdisk has the kernel re-read the whole table when the disk is not in
    // use (a real disk at boot, unlike a loop device), so the partition may be
    // known by now: then adding fails and updating is what is left to do.
    const added = await run("partx", ["--add", "--nr", String(number), "--", device], { okCodes: [1] });
    if (added.code === 0) return;
  }
  await run("partx", ["--update", "--nr", String(number), "--", device]);
}
