// Quench: clear the "first boot" flag on the EFI System Partition so that the
// next boot is an ordinary one. Runs last, after every stage succeeded.

import { mkdtemp, rmdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { FlintError } from "../errors";
import { log } from "../log";

/** The flag files GRUB looks for, relative to the ESP's root. */
export const FIRST_BOOT_FLAGS = ["flatcar/first_boot", "coreos/first_boot"] as const;
export const ESP_LABEL = "EFI-SYSTEM";

/** One way of reaching the files on the ESP. */
export interface EspFiles {
  /** Shown in messages. */
  readonly description: string;
  /** Removes those of `paths` that are files; returns them. */
  removeFiles(paths: readonly string[]): Promise<string[]>;
  close(): Promise<void>;
}

/** The ESP as a mounted directory (`--esp DIR`, or mounted by us). */
export function directoryEsp(dir: string, onClose: () => Promise<void> = async () => undefined, description = dir): EspFiles {
  const isFile = async (path: string) => {
    try {
      return (await stat(join(dir, path))).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw new FlintError(`cannot inspect: ${(e as Error).message}`, join(dir, path));
    }
  };
  return {
    description,
    async removeFiles(paths) {
      const removed: string[] = [];
      for (const path of paths) {
        if (!(await isFile(path))) continue;
        await unlink(join(dir, path));
        removed.push(path);
      }
      return removed;
    },
    close: onClose,
  };
}

/**
 * The ESP on an unmounted FAT device, reached with mtools: one `mdel` for
 * all the flags, then the device synced (mtools writes through the block
 * device's cache). Cheaper than mounting: under emulation the mount, the
 * kernel loading vfat and its code pages, and the unmount cost the better
 * part of a second.
 */
export async function mtoolsEsp(device: string): Promise<EspFiles> {
  const mtools = await import("../system/mtools");
  return {
    description: `${device} (via mtools)`,
    async removeFiles(paths) {
      const removed = await mtools.deleteFiles(device, paths);
      if (removed.length > 0) await syncDevice(device);
      return removed;
    },
    close: async () => undefined,
  };
}

async function syncDevice(device: string): Promise<void> {
  const { open } = await import("node:fs/promises");
  const handle = await open(device, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Finds the ESP device: udev's by-label link first (what Flatcar uses), else a blkid scan. */
export async function findEspDevice(label = ESP_LABEL): Promise<string> {
  const { findDeviceByLabel } = await import("../devices/resolve");
  return findDeviceByLabel(label, "quench", "ESP");
}

/**
 * The ESP device's files: with mtools when they are installed and nothing
 * has the device mounted (writing under a mounted filesystem would corrupt
 * it), mounting it when mtools cannot (an initramfs without the code page
 * mtools wants, say); else mounted on a private directory under /run, and
 * where the kernel has no vfat (as on some build hosts), mtools after all.
 */
export async function openEspDevice(device: string, runDir = "/run/flint"): Promise<EspFiles> {
  const mtools = await import("../system/mtools");
  if (mtools.installed() && !(await isMounted(device))) {
    const viaMtools = await mtoolsEsp(device);
    return {
      description: viaMtools.description,
      async removeFiles(paths) {
        try {
          return await viaMtools.removeFiles(paths);
        } catch (e) {
          log.warn(`mtools cannot edit the ESP (${(e as Error).message}); mounting it instead`, { device });
          const mounted = await mountEsp(device, runDir);
          try {
            return await mounted.removeFiles(paths);
          } finally {
            await mounted.close();
          }
        }
      },
      close: async () => undefined,
    };
  }
  try {
    return await mountEsp(device, runDir);
  } catch (e) {
    const unsupported = e instanceof FlintError && /unknown filesystem type/.test(e.message);
    if (unsupported && mtools.installed()) {
      log.info("this kernel cannot mount vfat; using mtools on the ESP", { device });
      return mtoolsEsp(device);
    }
    throw e;
  }
}

/** The ESP mounted (vfat) on a private directory under `runDir`, unmounted by close(). */
async function mountEsp(device: string, runDir: string): Promise<EspFiles> {
  const { mkdir } = await import("node:fs/promises");
  const mountpoint = await mkdir(runDir, { recursive: true }).then(() => mkdtemp(join(runDir, "esp-")));
  const { mount, umount } = await import("../system/mount");
  try {
    await mount(device, mountpoint, "vfat");
  } catch (e) {
    await rmdir(mountpoint).catch(() => undefined);
    throw e;
  }
  return directoryEsp(
    mountpoint,
    async () => {
      await umount(mountpoint);
      await rmdir(mountpoint);
    },
    `${device} (mounted on ${mountpoint})`,
  );
}

/** Whether any mount has `device`'s filesystem (whatever name reached it). */
async function isMounted(device: string): Promise<boolean> {
  const { deviceIdentity } = await import("../devices/identity");
  const { mountTable } = await import("../system/mount");
  const identity = await deviceIdentity(device);
  if (!identity) return false;
  return (await mountTable()).some((m) => m.majorMinor === identity.id);
}

export interface QuenchOptions {
  /** Whether GRUB saw the flag on this boot (`first_boot=detected`): then a missing flag is an error. */
  flagRequired: boolean;
}

/** Removes both flag files; returns the ones that were there. */
export async function quench(esp: EspFiles, options: QuenchOptions): Promise<string[]> {
  let removed: string[];
  try {
    removed = await esp.removeFiles(FIRST_BOOT_FLAGS);
    for (const flag of removed) log.info(`removed ${flag}`, { esp: esp.description });
  } finally {
    await esp.close();
  }
  if (removed.length === 0) {
    if (options.flagRequired) {
      // Without the flag we cannot tell whether this boot was really the first;
      // going on quietly could provision the machine twice.
      throw new FlintError(`the boot loader detected a first boot, but neither ${FIRST_BOOT_FLAGS.join(" nor ")} exists; refusing to continue`, esp.description);
    }
    log.info("no first-boot flag to remove", { esp: esp.description });
  }
  return removed;
}
