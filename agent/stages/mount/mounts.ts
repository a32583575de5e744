// The filesystems a config mounts under the root, in mount order, and the
// record of what the mount stage actually mounted, kept in /run so that the
// umount stage (a separate process at boot) undoes exactly that.

import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { posix } from "node:path";
import type { Config, Filesystem } from "../../config/types";
import { pathProblem } from "../../config/validate/common";
import { FlintError } from "../../errors";
import { writeRunFile } from "../run-files";

export const MOUNT_RECORD_DIR = "/run/flint/mounts";

export interface MountEntry {
  fs: Filesystem & { path: string };
  where: string;
}

export interface MountRecord {
  device: string;
  /** Path inside the root, as in the config. */
  path: string;
  /** Where it was mounted on the host. */
  hostPath: string;
  /** The kernel's id of the mount made, and its filesystem's major:minor: umount undoes that mount, never one stacked on it or made since. */
  mountId: number;
  majorMinor: string;
}

/** Filesystems with a `path` (swap and `none` are never mounted), parents before children. */
export function mountEntries(config: Config): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const [i, fs] of (config.storage?.filesystems ?? []).entries()) {
    if (!fs.path || fs.format === "swap" || fs.format === "none") continue;
    const where = `storage.filesystems.${i}.path`;
    const problem = pathProblem(fs.path);
    if (problem) throw new FlintError(problem, where);
    entries.push({ fs: fs as MountEntry["fs"], where });
  }
  const depth = (p: string): number => p.split("/").filter(Boolean).length;
  return entries.sort((a, b) => depth(a.fs.path) - depth(b.fs.path));
}

/** One record file per root, so runs on different roots never share one. */
export function recordPath(canonicalRoot: string): string {
  return posix.join(MOUNT_RECORD_DIR, createHash("sha256").update(canonicalRoot).digest("hex").slice(0, 16) + ".json");
}

export async function readMountRecord(canonicalRoot: string): Promise<MountRecord[] | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(canonicalRoot), "utf8")) as MountRecord[];
  } catch {
    return undefined;
  }
}

export async function writeMountRecord(canonicalRoot: string, records: MountRecord[]): Promise<void> {
  await writeRunFile(recordPath(canonicalRoot), JSON.stringify(records, null, 2) + "\n", 0o600);
}

export async function forgetMountRecord(canonicalRoot: string): Promise<void> {
  await rm(recordPath(canonicalRoot), { force: true });
}
