// Whether a block device is in use (mounted, or held by RAID, device-mapper
// or swap), so that a partition table is never rewritten under a live system.

import { readdir, readFile, realpath } from "node:fs/promises";
import { basename } from "node:path";

async function mountedSources(): Promise<Set<string>> {
  const sources = new Set<string>();
  const text = await readFile("/proc/mounts", "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const source = line.split(" ")[0];
    if (source?.startsWith("/")) sources.add(await realpath(source).catch(() => source));
  }
  const swaps = await readFile("/proc/swaps", "utf8").catch(() => "");
  for (const line of swaps.split("\n").slice(1)) {
    const source = line.split(/\s+/)[0];
    if (source?.startsWith("/")) sources.add(await realpath(source).catch(() => source));
  }
  return sources;
}

async function held(name: string): Promise<boolean> {
  const holders = await readdir(`/sys/class/block/${name}/holders`).catch(() => []);
  return holders.length > 0;
}

export interface DiskUsage {
  /** The whole disk is mounted or held itself. */
  diskInUse: boolean;
  /** Partition numbers that are mounted or held. */
  activePartitions: Set<number>;
}

/** `device` is a real node such as /dev/vdb or /dev/loop3. */
export async function diskUsage(device: string): Promise<DiskUsage> {
  const name = basename(device);
  const mounted = await mountedSources();
  const diskInUse = mounted.has(device) || (await held(name));
  const activePartitions = new Set<number>();
  const entries = await readdir(`/sys/class/block/${name}`).catch(() => [] as string[]);
  for (const entry of entries) {
    if (!entry.startsWith(name) || entry === name) continue;
    const number = Number(await readFile(`/sys/class/block/${entry}/partition`, "utf8").catch(() => "NaN"));
    if (!Number.isInteger(number)) continue;
    if (mounted.has(`/dev/${entry}`) || (await held(entry))) activePartitions.add(number);
  }
  return { diskInUse, activePartitions };
}
