// The mount stage: every storage.filesystems entry with a `path` is mounted
// under the root, parents before children, with its mountOptions. Mount
// points are created inside the root through the resolver. What is mounted
// is recorded (with the kernel's mount id) for the umount stage, which undoes
// exactly that; a path already mounted from the same device is left alone
// and not recorded, one mounted from another device is an error (unless this
// run mounted it: a later filesystem with the same path goes over it). A
// mount point must lie on the root's own mount or on one of the config's
// filesystems: a bind mount someone else made in the root is never mounted
// over or below.

import { FlintError } from "../../errors";
import { log } from "../../log";
import { canonicalRoot, openDirectory, openParent } from "../../root/resolve";
import { openOrCreateDirectory, type RootDir } from "../../root/write";
import type { Filesystem } from "../../config/types";
import { deviceIdentity } from "../../devices/identity";
import type { MountInfo } from "../../system/mount";
import type { Stage, StageContext } from "../context";
import { mountEntries, readMountRecord, writeMountRecord, type MountEntry, type MountRecord } from "./mounts";

export const mountStage: Stage = async (config, ctx) => {
  const entries = mountEntries(config);
  if (entries.length === 0) return;
  const root = canonicalRoot(ctx.root);
  const system = await import("../../system/mount");
  const records: MountRecord[] = ctx.dryRun ? [] : (await readMountRecord(root)) ?? [];
  // The mounts a mount point may lie on: the root's own, then each config filesystem's as it is mounted or found.
  const allowed = new Set<number>(records.map((r) => r.mountId));
  if (!ctx.dryRun) allowed.add(rootMountId(root));
  for (const { fs, where } of entries) {
    ctx.signal?.throwIfAborted();
    // An existing mount point is checked below; a missing one is made only on the allowed mounts.
    const existing = ctx.dryRun ? undefined : openDirectory(root, fs.path).dir;
    const dir = existing ?? openOrCreateDirectory(root, fs.path, {
      dryRun: ctx.dryRun,
      created: (p) => ctx.actions.push({ kind: "mkdir", target: p, detail: "mode=0755 owner=0:0" }),
      mounts: ctx.dryRun ? undefined : allowed,
    });
    try {
      // A symlink in the root (`/var -> /`) must not make the root itself a mount point.
      if (dir?.rootPath === "/" && fs.path !== "/") throw new FlintError(`${fs.path} leads to the root itself (through a symlink in the root); refusing to mount over it`, where);
      if (dir && !ctx.dryRun && dir.rootPath !== "/") checkParentMount(root, dir.rootPath, allowed, fs.path, where);
      const mounted = await mountOne(fs, where, dir, records, ctx, system, root);
      if (mounted !== undefined) allowed.add(mounted);
    } finally {
      dir?.close();
    }
  }
};

/** The mount id of the root directory itself. */
function rootMountId(root: string): number {
  const top = openDirectory(root, "/").dir!;
  try {
    return top.mountId;
  } finally {
    top.close();
  }
}

/**
 * Refuses a mount point (its path as resolved in the root) whose parent is on
 * a mount that is neither the root's nor one of the config's filesystems.
 */
function checkParentMount(root: string, resolved: string, allowed: ReadonlySet<number>, path: string, where: string): void {
  let parent;
  try {
    parent = openParent(root, resolved, { mounts: allowed });
  } catch (e) {
    if (!(e instanceof FlintError)) throw e;
    throw new FlintError(`${path}: ${resolved === path ? "" : `(resolved in the root as ${resolved}) `}lies on a mount that is not this run's; refusing to mount there`, where);
  }
  parent.dir?.close();
}

/**
 * Mounts one filesystem on its directory, open as `dir` (undefined in a plan
 * when it does not exist yet). Returns the mount id the path now has when it
 * is the config's filesystem (made now, by this run, or found), else undefined.
 */
async function mountOne(fs: MountEntry["fs"], where: string, dir: RootDir | undefined, records: MountRecord[], ctx: StageContext, system: typeof import("../../system/mount"), root: string): Promise<number | undefined> {
  const detail = `${fs.device} type=${fs.format ?? "auto"}${fs.mountOptions?.length ? ` options=${fs.mountOptions.join(",")}` : ""}`;
  // A plan looks at nothing mounted: the directory may not even exist yet.
  const hostPath = !ctx.dryRun && dir ? dir.hostPath() : undefined;
  const present = hostPath ? await system.topMountAt(hostPath) : undefined;
  // Two filesystems at one path: Ignition mounts the later over the earlier, and so does Flint over its own mount.
  const ours = present && records.some((r) => r.mountId === present.id && r.path === fs.path);
  if (present && ours && !(await sameDevice(present, fs)).same) {
    log.warn(`${fs.path} is already mounted by this run from another filesystem; mounting ${fs.device} over it, as Ignition does`);
  } else if (present) {
    const wanted = await sameDevice(present, fs);
    if (!wanted.same) {
      throw new FlintError(`${fs.path} is already mounted with ${present.source} (${present.majorMinor}), not with ${fs.device} (${wanted.id ?? "no such device"}); unmount it first`, where);
    }
    log.info(`${fs.path} is already mounted from ${fs.device}; leaving it, and it will not be unmounted`, { source: present.source });
    return present.id;
  }
  ctx.actions.push({ kind: "mount", target: fs.path, detail });
  if (!dir || !hostPath) return undefined;
  log.info(`mounting ${fs.device} at ${fs.path}`, { format: fs.format });
  try {
    await system.mountOnDirectory(fs.device, dir.fd, fs.format, fs.mountOptions ?? []);
  } catch (e) {
    // A mount cut short (a cancelled run's tool is killed) may have been made
    // all the same: recorded, the unmount after the failure undoes it.
    const made = await system.topMountAt(hostPath).catch(() => undefined);
    if (made && (await sameDevice(made, fs).catch(() => ({ same: false }))).same) {
      records.push({ device: fs.device, path: fs.path, hostPath, mountId: made.id, majorMinor: made.majorMinor });
      await writeMountRecord(root, records);
    }
    throw new FlintError(`cannot mount ${fs.device} at ${fs.path}: ${(e as Error).message}`, where);
  }
  const made = await system.topMountAt(hostPath);
  if (!made) throw new FlintError(`mount reported success, but nothing is mounted at ${fs.path}`, where);
  records.push({ device: fs.device, path: fs.path, hostPath, mountId: made.id, majorMinor: made.majorMinor });
  await writeMountRecord(root, records);
  return made.id;
}

/**
 * Whether what is mounted is the config's filesystem: the same major:minor
 * as the device (symlinks followed), or a mount source that resolves to it
 * (btrfs mounts carry an anonymous major:minor); a virtiofs tag by name.
 */
async function sameDevice(present: MountInfo, fs: Filesystem): Promise<{ same: boolean; id?: string }> {
  if ((fs.format as string | undefined) === "virtiofs") return { same: present.fstype === "virtiofs" && present.source === fs.device, id: "virtiofs tag" };
  const wanted = await deviceIdentity(fs.device);
  if (!wanted) return { same: false };
  if (present.majorMinor === wanted.id) return { same: true, id: wanted.id };
  const source = present.source.startsWith("/") ? await deviceIdentity(present.source).catch(() => undefined) : undefined;
  return { same: source?.id === wanted.id, id: wanted.id };
}
