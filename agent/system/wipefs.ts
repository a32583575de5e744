// wipefs: erasing filesystem, RAID and partition-table signatures from a device.
// The only caller of wipefs.

import { run } from "./exec";

export async function wipeAllSignatures(device: string): Promise<void> {
  await run("wipefs", ["--all", device]);
}
