// wipefs: erasing filesystem, RAID and partition-table signatures from a device.
// The only caller of wipefs.

import { DEVICE_TIMEOUT_MS, run } from "./exec";

export async function wipeAllSignatures(device: string): Promise<void> {
  await run("wipefs", ["--all", "--", device], { timeoutMs: DEVICE_TIMEOUT_MS });
}
