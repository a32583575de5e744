// Mounting and unmounting the EFI System Partition for quench (vfat only).
// The files stage has its own mount module; this one is deliberately narrow.

import { run } from "./exec";

export async function mountVfat(device: string, dir: string): Promise<void> {
  await run("mount", ["-t", "vfat", device, dir]);
}

export async function unmount(dir: string): Promise<void> {
  await run("umount", [dir]);
}
