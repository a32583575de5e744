// Local media a platform reads from: the OEM partition, OpenStack's config
// drive, Azure's provisioning CD-ROM. A device is mounted read-only on a
// fresh temporary directory for the duration of `use` and unmounted
// afterwards (as Ignition's setup does with the OEM partition).

import { access, mkdtemp, readdir, readFile, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { log } from "../log";

export interface Media {
  /** The block device, e.g. `/dev/disk/by-label/OEM`; undefined when a test or the image points at a directory. */
  device?: string;
  /** Filesystem types to try, in order (undefined = let mount probe). */
  formats?: (string | undefined)[];
  /** The directory to read when the device is absent (PXE: the OEM files in the initramfs). */
  fallback: string;
}

export async function withMedia<T>(media: Media, use: (dir: string) => Promise<T>): Promise<T> {
  if (!media.device || !(await exists(media.device))) return use(media.fallback);
  const mounted = await withMountedReadOnly(media.device, media.formats, use);
  if (mounted.mounted) return mounted.value;
  log.warn(`cannot mount ${media.device}: ${mounted.error.message}; reading ${media.fallback} instead`);
  return use(media.fallback);
}

export type Mounted<T> = { mounted: true; value: T } | { mounted: false; error: Error };

/** Mounts `device` read-only (trying each format), runs `use` on it, and unmounts; says so when it cannot mount. */
export async function withMountedReadOnly<T>(device: string, formats: (string | undefined)[] = [undefined], use: (dir: string) => Promise<T>): Promise<Mounted<T>> {
  const { mount, umount } = await import("../system/mount");
  const dir = await mkdtemp(join(tmpdir(), "flint-media-"));
  let error: Error = new Error("no filesystem type to try");
  for (const format of formats) {
    try {
      await mount(device, dir, format, ["ro"]);
    } catch (e) {
      error = e as Error;
      continue;
    }
    log.debug("mounted read-only", { device, at: dir, format: format ?? "auto" });
    try {
      return { mounted: true, value: await use(dir) };
    } finally {
      await umount(dir).catch((e: Error) => log.warn(`cannot unmount ${dir}: ${e.message}`));
      await rmdir(dir).catch(() => undefined);
    }
  }
  await rmdir(dir).catch(() => undefined);
  return { mounted: false, error };
}

/**
 * The CD-ROM drives (SCSI peripheral type 5, e.g. `sr0`) the kernel knows,
 * as device paths under `dev`: where Azure's provisioning media can be.
 * Only CD-ROMs: a disk the user attached is never read as provisioning data.
 */
export async function cdromDevices(sysfs: string, dev: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(sysfs, "class/block"));
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const name of names.sort()) {
    const type = await readFile(join(sysfs, "class/block", name, "device/type"), "utf8").catch(() => "");
    if (type.trim() === "5") found.push(join(dev, name));
  }
  return found;
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
