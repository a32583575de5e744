// Local media a platform reads from: the OEM partition, OpenStack's config
// drive, Azure's provisioning CD-ROM. When the device is present it is
// mounted read-only on a fresh temporary directory for the duration of `use`
// and unmounted afterwards (as Ignition's setup does with the OEM partition);
// otherwise the fallback directory is used as is (PXE: files in the initramfs).

import { access, mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { log } from "../log";

export interface Media {
  /** The block device, e.g. `/dev/disk/by-label/OEM`; undefined when a test or the image points at a directory. */
  device?: string;
  /** Filesystem types to try, in order (undefined = let mount probe). */
  formats?: (string | undefined)[];
  /** The directory to read when the device is absent. */
  fallback: string;
}

export async function withMedia<T>(media: Media, use: (dir: string) => Promise<T>): Promise<T> {
  if (!media.device || !(await access(media.device).then(() => true, () => false))) return use(media.fallback);
  const { mount, umount } = await import("../system/mount");
  const dir = await mkdtemp(join(tmpdir(), "flint-media-"));
  let mounted = false;
  let lastError: Error | undefined;
  for (const format of media.formats ?? [undefined]) {
    try {
      await mount(media.device, dir, format, ["ro"]);
      mounted = true;
      break;
    } catch (e) {
      lastError = e as Error;
    }
  }
  if (!mounted) {
    await rmdir(dir).catch(() => undefined);
    log.warn(`cannot mount ${media.device}: ${lastError?.message}; reading ${media.fallback} instead`);
    return use(media.fallback);
  }
  log.debug("mounted read-only", { device: media.device, at: dir });
  try {
    return await use(dir);
  } finally {
    await umount(dir).catch((e: Error) => log.warn(`cannot unmount ${dir}: ${e.message}`));
    await rmdir(dir).catch(() => undefined);
  }
}
