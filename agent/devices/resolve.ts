// Device paths from a config (`/dev/vdb`, `/dev/disk/by-partlabel/ROOT`…):
// resolving udev's symlinks and waiting, with a bound, for devices to appear.

import { realpath, stat } from "node:fs/promises";
import { FlintError } from "../errors";
import { log } from "../log";

/** How long to wait for a device when nothing else is said: udev can be slow on a cold boot. */
export const DEFAULT_DEVICE_TIMEOUT_MS = 90_000;
const POLL_MS = 100;

/** The wait bound: `FLINT_DEVICE_TIMEOUT` (seconds) when set, else the default. */
export function deviceTimeoutMs(): number {
  const raw = process.env.FLINT_DEVICE_TIMEOUT;
  if (raw === undefined || raw === "") return DEFAULT_DEVICE_TIMEOUT_MS;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new FlintError(`must be a number of seconds (got ${JSON.stringify(raw)})`, "FLINT_DEVICE_TIMEOUT");
  return seconds * 1000;
}

/** The block device a path names after following symlinks, or undefined when it does not exist (yet). */
export async function resolveDevicePath(path: string): Promise<string | undefined> {
  try {
    const target = await realpath(path);
    const info = await stat(target);
    return info.isBlockDevice() ? target : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new FlintError(`cannot resolve: ${(e as Error).message}`, path);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `path` names a block device and returns the real device node. */
export async function waitForDevice(path: string, timeoutMs = deviceTimeoutMs()): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    const found = await resolveDevicePath(path);
    if (found) return found;
    if (Date.now() >= deadline) throw new FlintError(`device did not appear within ${Math.round(timeoutMs / 1000)} s`, path);
    if (!announced) {
      log.info("waiting for device", { device: path });
      announced = true;
    }
    await sleep(POLL_MS);
  }
}

/**
 * The device a config entry names, waited for; in a dry run (`flint plan`)
 * not waited for, and undefined when it is not there (yet): an earlier step
 * of the same plan may be what would create it.
 */
export async function deviceForStep(path: string, dryRun: boolean, where: string): Promise<string | undefined> {
  if (dryRun) return resolveDevicePath(path);
  try {
    return await waitForDevice(path);
  } catch (e) {
    // The config path as `where` (so the error can be placed in its document); the device in the message.
    if (e instanceof FlintError) throw new FlintError(`${path}: ${e.message}`, where);
    throw e;
  }
}

/**
 * The one device whose filesystem label is `label`: udev's by-label link
 * first (what Flatcar uses), else a blkid scan; none or several is an error
 * (`what` names the partition in it, `where` the stage).
 */
export async function findDeviceByLabel(label: string, where: string, what = "partition"): Promise<string> {
  const resolved = await resolveDevicePath(`/dev/disk/by-label/${label}`);
  if (resolved) return resolved;
  const { devicesWithLabel } = await import("../system/blkid");
  const found = await devicesWithLabel(label);
  if (found.length === 0) throw new FlintError(`no partition labelled ${label} found`, where);
  if (found.length > 1) throw new FlintError(`more than one partition labelled ${label} (${found.join(", ")}); refusing to guess which ${what} to change`, where);
  return found[0]!;
}
