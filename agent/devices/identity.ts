// A block device's identity: its major:minor numbers, the same whatever
// name reaches it (/dev/vdb, a symlink, /dev/disk/by-*), and, for a
// partition, the identity of the disk that holds it.

import { readFile, realpath, stat } from "node:fs/promises";
import { FlintError } from "../errors";

export interface DeviceIdentity {
  /** `major:minor`, as in /proc/self/mountinfo and /sys/dev/block. */
  id: string;
  /** The real node, symlinks followed. */
  node: string;
  /** For a partition, the `major:minor` of its disk. */
  diskId?: string;
}

/** Linux's dev_t encoding (new_decode_dev). */
export function majorMinor(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The identity of the block device `path` names, or undefined when nothing (or no block device) is there yet. */
export async function deviceIdentity(path: string): Promise<DeviceIdentity | undefined> {
  let node: string;
  let rdev: bigint;
  try {
    node = await realpath(path);
    const info = await stat(node, { bigint: true });
    if (!info.isBlockDevice()) return undefined;
    rdev = info.rdev;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new FlintError(`cannot resolve: ${(e as Error).message}`, path);
  }
  const id = majorMinor(rdev);
  return { id, node, diskId: await parentDisk(id) };
}

/** /sys/dev/block/M:m is a partition when it has a `partition` file; its parent directory is the disk. */
async function parentDisk(id: string): Promise<string | undefined> {
  const sys = `/sys/dev/block/${id}`;
  try {
    await stat(`${sys}/partition`);
  } catch {
    return undefined;
  }
  try {
    return (await readFile(`${await realpath(sys)}/../dev`, "utf8")).trim();
  } catch {
    return undefined;
  }
}
