// Waiting for the kernel and udev to catch up with a disk whose GPT Flint
// changed, without a global `udevadm settle` right away.
//
// Closing a disk opened for writing makes udev (which watches disks) have
// the kernel re-read its partition table: every partition is dropped and
// added again, and its /dev/disk/by-* links go and come back. The next
// stages find partitions by those links, so randomize-guid must not end
// before that is over. That re-read happens a moment after the close, in
// udev's own time; a settle started before it would not wait for it. So
// this first waits for the re-read itself (each partition's sysfs directory
// is a new one afterwards), then asks for a change event of the disk and
// waits until udev has written its record of the disk anew (it replaces the
// file, so the inode changes): udev handles an event only after the earlier
// events of the device's children, so by then every partition is back with
// its links. Looking at that file costs nothing; `udevadm settle` (a
// process, waiting for every device) is the fallback.

import { existsSync } from "node:fs";
import { readdir, realpath, stat, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { log } from "../log";
import { majorMinor } from "./identity";

const POLL_MS = 20;

/**
 * Whether a udev daemon listens on its control socket (for every caller, the
 * disks stage's `udevadm settle` too), without running `udevadm control
 * --ping`: the socket file stays behind after the daemon exits, but it is a
 * SOCK_SEQPACKET one, so a stream connection to a live daemon fails with
 * EPROTOTYPE, and to a file left behind with ECONNREFUSED.
 */
export function udevRunning(control = "/run/udev/control"): Promise<boolean> {
  if (!existsSync(control)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ path: control });
    socket.on("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code === "EPROTOTYPE"));
  });
}

/** The disk's sysfs directory (/sys/devices/…/block/vda). */
async function sysfsDir(device: string): Promise<string> {
  return realpath(`/sys/dev/block/${majorMinor((await stat(device, { bigint: true })).rdev)}`);
}

/** Each partition's sysfs directory and its inode: a re-read of the table makes new ones. */
export async function partitionDirs(device: string): Promise<Map<string, bigint>> {
  const dir = await sysfsDir(device);
  const found = new Map<string, bigint>();
  for (const name of await readdir(dir)) {
    if (!existsSync(`${dir}/${name}/partition`)) continue;
    found.set(`${dir}/${name}`, (await stat(`${dir}/${name}`, { bigint: true })).ino);
  }
  return found;
}

/**
 * After the GPT of the disk `device` was written and closed: waits (at most
 * `rereadTimeoutMs`) for the kernel to have re-read its partitions
 * (`before` is `partitionDirs` from before the write), asks for a change
 * event of the disk, and waits for udev to have handled it (at most
 * `recordTimeoutMs`, then for udev's whole queue). Without a udev daemon
 * there is nothing to wait for.
 */
export async function settleDisk(device: string, before: Map<string, bigint>, { rereadTimeoutMs = 3_000, recordTimeoutMs = 5_000, dataDir = "/run/udev/data" } = {}): Promise<void> {
  // A disk image file (`--device` on a file) has no udev events to wait for.
  if (!(await stat(device)).isBlockDevice() || !(await udevRunning())) return;
  const started = Date.now();
  const deadline = started + rereadTimeoutMs;
  const reread = async () => {
    for (const [dir, ino] of before) {
      const now = await stat(dir, { bigint: true }).catch(() => undefined);
      if (!now || now.ino === ino) return false;
    }
    return true;
  };
  while (!(await reread())) {
    if (Date.now() > deadline) break;
    await sleep(POLL_MS);
  }
  log.debug(Date.now() > deadline ? "the kernel did not re-read the partitions; going on" : `partitions re-read after ${Date.now() - started} ms`, { device });
  const record = `${dataDir}/b${majorMinor((await stat(device, { bigint: true })).rdev)}`;
  const inode = async () => (await stat(record, { bigint: true }).catch(() => undefined))?.ino;
  const old = await inode();
  await writeFile(`${await sysfsDir(device)}/uevent`, "change").catch((e: Error) => log.warn(`cannot ask for a change event: ${e.message}`, { device }));
  const recordDeadline = Date.now() + recordTimeoutMs;
  while (old !== undefined && Date.now() < recordDeadline) {
    const now = await inode();
    if (now !== undefined && now !== old) {
      log.debug(`udev handled the disk's events after ${Date.now() - started} ms`, { device });
      return;
    }
    await sleep(POLL_MS);
  }
  log.debug("udev did not rewrite its record of the disk; waiting for its whole queue", { device });
  const { settle } = await import("../system/udevadm");
  await settle(60);
}
