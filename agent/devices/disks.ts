// The machine's whole disks, listed from sysfs: what randomize-guid scans on
// every first boot, without running lsblk (a process costs a noticeable
// fraction of a second under emulation).

import { readdir, readFile } from "node:fs/promises";

/** Majors of drives that cannot hold a GPT the boot cares about and are slow to read when empty: floppies (2) and SCSI CD-ROMs (11). */
const SKIPPED_MAJORS = new Set([2, 11]);

/** Device nodes of every whole disk with a size, from /sys/block (`sysBlock` for tests). */
export async function wholeDisks(sysBlock = "/sys/block"): Promise<string[]> {
  const names = await readdir(sysBlock).catch(() => [] as string[]);
  const disks: string[] = [];
  for (const name of names.sort()) {
    const [uevent, size] = await Promise.all([readFile(`${sysBlock}/${name}/uevent`, "utf8").catch(() => ""), readFile(`${sysBlock}/${name}/size`, "utf8").catch(() => "0")]);
    const major = Number(/^MAJOR=(\d+)$/m.exec(uevent)?.[1]);
    if (Number(size.trim()) === 0 || SKIPPED_MAJORS.has(major)) continue;
    // DEVNAME is the node's name under /dev (cciss!c0d0 in sysfs is cciss/c0d0 there).
    disks.push(`/dev/${/^DEVNAME=(.+)$/m.exec(uevent)?.[1] ?? name.replace(/!/g, "/")}`);
  }
  return disks;
}
