// The LUKS key hand-off between stages. The disks stage makes (or fetches)
// each volume's key and leaves it in /run, because at boot the root is not
// mounted yet; the files stage puts it into the root with the volume's
// crypttab line. When the root is already there (`flint apply --root DIR`),
// the disks stage installs it itself. Both stages go through this module.

import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import type { Luks } from "../config/types";
import { waitForDevice } from "../devices/resolve";
import { FlintError } from "../errors";
import { inspectInRoot } from "../root/resolve";

/** Where keys live in the initramfs while the stages run. */
export const RUN_KEY_DIR = "/run/flint/luks";
/** Where Ignition (and so Flint) keeps keys on the installed system. */
const ROOT_KEY_DIR = "/etc/luks";

/** Tests keep run keys in a directory of their own. */
export interface KeyDirOption {
  keyDir?: string;
}

function runKeyPath(name: string, options: KeyDirOption = {}): string {
  return join(options.keyDir ?? RUN_KEY_DIR, name);
}

export function rootKeyPath(name: string): string {
  return posix.join(ROOT_KEY_DIR, name);
}

/** Leaves the key in /run for the files stage, 0600 in a 0700 directory. */
export async function writeRunKey(name: string, key: Buffer, options: KeyDirOption = {}): Promise<string> {
  const path = runKeyPath(name, options);
  await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  await writeFile(path, key, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

export async function readRunKey(name: string, options: KeyDirOption = {}): Promise<Buffer | undefined> {
  return readFile(runKeyPath(name, options)).catch(() => undefined);
}

/** Whether the root already has the volume's key (a re-run, or `apply` whose disks stage installed it); looked up inside the root. */
export async function rootHasKey(root: string, name: string): Promise<boolean> {
  return inspectInRoot(root, rootKeyPath(name), { followLast: true }).stat !== undefined;
}

/** Puts each volume's key from /run into the root with its crypttab line. */
export async function persistLuksVolumes(volumes: { luks: Luks; where: string }[], root: string, options: KeyDirOption = {}): Promise<void> {
  const { probe } = await import("../system/blkid");
  for (const { luks, where } of volumes) {
    const key = await readRunKey(luks.name, options);
    if (!key) throw new FlintError(`no key for LUKS volume ${luks.name} in ${options.keyDir ?? RUN_KEY_DIR}; did the disks stage run?`, where);
    const device = await waitForDevice(luks.device!);
    await installInRoot(root, luks, key, (await probe(device)).UUID ?? "", where);
  }
}

/** The key at /etc/luks/<name> (0600, in a 0700 directory) and the volume's crypttab line, in the root; `where` is the volume's config path. */
export async function installInRoot(root: string, luks: Luks, key: Buffer, uuid: string, where: string): Promise<void> {
  if (!uuid) throw new FlintError(`cannot read the LUKS uuid of ${luks.device}`, where);
  await copyKeyIntoRoot(root, luks.name, key);
  await addCrypttabEntry(root, luks, uuid);
}

/** Where the installed system reads which volumes to unlock. */
const CRYPTTAB = "/etc/crypttab";

/** Adds or replaces the volume's line in the root's /etc/crypttab (Ignition's format). */
async function addCrypttabEntry(root: string, luks: Luks, uuid: string): Promise<void> {
  const { readRootText } = await import("../root/read");
  const { writeRootFile } = await import("../root/write");
  // Read and replaced inside the root: a symlink there is followed as if chrooted, never to the host's file.
  const old = readRootText(root, CRYPTTAB);
  const options = ["luks", ...(luks.discard ? ["discard"] : [])].join(",");
  const line = `${luks.name} UUID=${uuid} ${rootKeyPath(luks.name)} ${options}`;
  const kept = old.split("\n").filter((l) => l !== "" && l.split(/\s+/)[0] !== luks.name);
  await writeRootFile(root, CRYPTTAB, [...kept, line].join("\n") + "\n", 0o644);
}

/** Writes the key to /etc/luks/<name> in the root, 0600 in a 0700 directory, atomically. */
async function copyKeyIntoRoot(root: string, name: string, key: Buffer): Promise<void> {
  const { writeRootFile } = await import("../root/write");
  await writeRootFile(root, rootKeyPath(name), key, 0o600, { uid: 0, gid: 0 }, { dirMode: 0o700 });
}
