// The kernel's id of this boot, which the result report and
// /etc/.ignition-result.json both carry.

import { readFile } from "node:fs/promises";

export const BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id";

/** This boot's id; throws with the file's error when it cannot be read. */
export async function readBootId(): Promise<string> {
  return (await readFile(BOOT_ID_FILE, "utf8")).trim();
}
