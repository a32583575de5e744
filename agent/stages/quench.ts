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
  exists(path: string): Promise<boolean>;
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}

/** The ESP as a mounted directory (`--esp DIR`, or mounted by us). */
export function directoryEsp(dir: string, onClose: () => Promise<void> = async () => undefined, description = dir): EspFiles {
  return {
    description,
    async exists(path) {
      try {
        return (await stat(join(dir, path))).isFile();
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw new FlintError(`cannot inspect: ${(e as Error).message}`, join(dir, path));
      }
    },
    async remove(path) {
      await unlink(join(dir, path));
    },
    close: onClose,
  };
}

/** The ESP on an unmounted FAT device, reached with mtools. */
export async function mtoolsEsp(device: string): Promise<EspFiles> {
  const mtools = await import("../system/mtools");
  return {
    description: `${device} (via mtools)`,
    exists: (path) => mtools.fileExists(device, path),
    remove: (path) => mtools.deleteFile(device, path),
    close: async () => undefined,
  };
}

/** Finds the ESP device: udev's by-label link first (what Flatcar uses), else a blkid scan. */
export async function findEspDevice(label = ESP_LABEL): Promise<string> {
  const { findDeviceByLabel } = await import("../devices/resolve");
  return findDeviceByLabel(label, "quench", "ESP");
}

/**
 * Mounts the ESP on a private directory under /run; where the kernel has no
 * vfat (as on some build hosts), falls back to mtools when it is installed.
 */
export async function openEspDevice(device: string, runDir = "/run/flint"): Promise<EspFiles> {
  const { mkdir } = await import("node:fs/promises");
  const mountpoint = await mkdir(runDir, { recursive: true }).then(() => mkdtemp(join(runDir, "esp-")));
  const { mount, umount } = await import("../system/mount");
  try {
    await mount(device, mountpoint, "vfat");
  } catch (e) {
    await rmdir(mountpoint).catch(() => undefined);
    const unsupported = e instanceof FlintError && /unknown filesystem type/.test(e.message);
    const mtools = await import("../system/mtools");
    if (unsupported && (await mtools.available())) {
      log.info("this kernel cannot mount vfat; using mtools on the ESP", { device });
      return mtoolsEsp(device);
    }
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

export interface QuenchOptions {
  /** Whether GRUB saw the flag on this boot (`first_boot=detected`): then a missing flag is an error. */
  flagRequired: boolean;
}

/** Removes both flag files; returns the ones that were there. */
export async function quench(esp: EspFiles, options: QuenchOptions): Promise<string[]> {
  const removed: string[] = [];
  try {
    for (const flag of FIRST_BOOT_FLAGS) {
      if (!(await esp.exists(flag))) continue;
      await esp.remove(flag);
      removed.push(flag);
      log.info(`removed ${flag}`, { esp: esp.description });
    }
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
