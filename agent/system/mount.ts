// mount and umount, and the kernel's view of what is mounted where.

import { readFile } from "node:fs/promises";
import { run } from "./exec";

/** `format` undefined lets mount(8) probe the filesystem type. */
export async function mount(device: string, target: string, format: string | undefined, options: string[] = []): Promise<void> {
  const args = format ? ["-t", format] : [];
  if (options.length) args.push("-o", options.join(","));
  args.push("--", device, target);
  await run("mount", args);
}

/**
 * Mounts onto the directory open as `dirFd`, handed to mount(8) as its fd 3
 * and named `/proc/self/fd/3` without canonicalizing: the kernel mounts on
 * that very directory, wherever a path to it leads by now. A directory of
 * the root swapped for a symlink after it was opened cannot redirect it.
 */
export async function mountOnDirectory(device: string, dirFd: number, format: string | undefined, options: string[] = []): Promise<void> {
  const args = ["--no-canonicalize"];
  if (format) args.push("-t", format);
  if (options.length) args.push("-o", options.join(","));
  args.push("--", device, "/proc/self/fd/3");
  await run("mount", args, { passFds: [dirFd] });
}

export async function umount(target: string): Promise<void> {
  await run("umount", ["--", target]);
}

/** One line of /proc/self/mountinfo. */
export interface MountInfo {
  /** The kernel's id of this mount: unique while it exists. */
  id: number;
  /** `major:minor` of the filesystem (anonymous `0:N` for btrfs, tmpfs…). */
  majorMinor: string;
  mountPoint: string;
  fstype: string;
  /** What was mounted: a device node, a tag, `tmpfs`… */
  source: string;
}

const unescape = (field: string): string => field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Every mount, in the order the kernel lists them (a mount stacked on another comes after it). */
export async function mountTable(): Promise<MountInfo[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const mounts: MountInfo[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (fields.length < 5 || dash === -1) continue;
    mounts.push({ id: Number(fields[0]), majorMinor: fields[2]!, mountPoint: unescape(fields[4]!), fstype: fields[dash + 1] ?? "", source: unescape(fields[dash + 2] ?? "") });
  }
  return mounts;
}

/** The mount on top at `path` (the one a lookup of the path sees), or undefined. */
export async function topMountAt(path: string): Promise<MountInfo | undefined> {
  return (await mountTable()).filter((m) => m.mountPoint === path).pop();
}
