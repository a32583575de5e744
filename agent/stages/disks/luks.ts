// LUKS2 volumes: format each one with its key file (from the config, or a new
// random key kept in /run and copied into the root), then open it as
// /dev/mapper/<name> so later filesystems can be made on it.

import { randomBytes } from "node:crypto";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Luks } from "../../config/types";
import { deviceForStep, waitForDevice } from "../../devices/resolve";
import { FlintError } from "../../errors";
import { log } from "../../log";
import { rememberSecret } from "../../secrets";
import type { StageContext } from "../context";

/** Where keys live in the initramfs while the stages run. */
export const RUN_KEY_DIR = "/run/flint/luks";
/** Where Ignition (and so Flint) keeps keys on the installed system. */
export const ROOT_KEY_DIR = "/etc/luks";
const KEY_BYTES = 256;

/** Valid configs Flint cannot carry out yet (validation accepts them, as Ignition does): refused before any disk changes. */
export function checkLuks(luks: Luks, where: string): void {
  const clevis = luks.clevis;
  if (clevis && ((clevis.tang?.length ?? 0) > 0 || clevis.tpm2 || clevis.custom?.pin)) {
    throw new FlintError("clevis (tang, tpm2, custom pins) is not supported yet by Flint; use a keyFile", `${where}.clevis`);
  }
  if (luks.cex?.enabled) throw new FlintError("cex is not supported by Flint", `${where}.cex`);
}

export function mapperPath(name: string): string {
  return `/dev/mapper/${name}`;
}

export interface LuksOptions {
  /** Directory for key files (the initramfs's /run by default; tests use their own). */
  keyDir?: string;
}

async function writeKey(path: string, key: Buffer): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  await writeFile(path, key, { mode: 0o600 });
  await chmod(path, 0o600);
}

export async function createLuksVolumes(volumes: Luks[], context: StageContext, options: LuksOptions = {}): Promise<void> {
  for (const [index, luks] of volumes.entries()) {
    const prepared = await prepareLuksVolume(luks, `storage.luks.${index}`, context, options);
    if (prepared) await openLuksVolume(luks, prepared.device, prepared.keyPath);
  }
}

/**
 * Formats the volume (or checks that an existing one can be kept) and stores
 * its key; returns undefined in a dry run. Opening is a separate step because
 * it needs device-mapper in the kernel, formatting does not.
 */
export async function prepareLuksVolume(luks: Luks, where: string, context: StageContext, options: LuksOptions = {}): Promise<{ device: string; keyPath: string } | undefined> {
  const device = await deviceForStep(luks.device!, context.dryRun, `${where}.device`);
  if (device === undefined) {
    context.actions.push({ kind: "luks", target: mapperPath(luks.name), detail: `format ${luks.device} (device not present yet)` });
    context.actions.push({ kind: "luks-key", target: join(ROOT_KEY_DIR, luks.name) });
    return undefined;
  }
  const keyPath = join(options.keyDir ?? RUN_KEY_DIR, luks.name);
  const cryptsetup = await import("../../system/cryptsetup");
  const { probe } = await import("../../system/blkid");
  const found = await probe(device);
  const occupied = found.TYPE !== undefined || found.PTTYPE !== undefined;
  const wipe = luks.wipeVolume === true;
  const reuse = found.TYPE === "crypto_LUKS" && !wipe;
  if (!reuse && occupied && !wipe) throw new FlintError(`${device} already holds ${found.TYPE ?? `a ${found.PTTYPE} partition table`}; set wipeVolume to erase it`, where);
  if (reuse && !luks.keyFile?.source) throw new FlintError(`${device} is already a LUKS volume and the config gives no keyFile to open it; set wipeVolume to format it again`, where);
  if (reuse && luks.uuid !== undefined && found.UUID?.toLowerCase() !== luks.uuid.toLowerCase()) {
    throw new FlintError(`the LUKS volume on ${device} has uuid ${found.UUID}, not ${luks.uuid}; set wipeVolume to format it again`, where);
  }

  context.actions.push({ kind: "luks", target: mapperPath(luks.name), detail: reuse ? `reuse LUKS volume on ${device}` : `format ${device}` });
  context.actions.push({ kind: "luks-key", target: join(ROOT_KEY_DIR, luks.name) });
  if (context.dryRun) return undefined;

  const key = luks.keyFile?.source
    ? await (await import("../../resource/index")).fetchToBuffer(luks.keyFile, { label: `${where}.keyFile`, maxBytes: 8 * 1024 * 1024 })
    : randomBytes(KEY_BYTES);
  if (luks.keyFile?.source) rememberSecret(key); // a fetched key may be a printable passphrase a tool could quote
  await writeKey(keyPath, key);
  if (reuse) {
    if (!(await cryptsetup.keyUnlocks(device, keyPath))) throw new FlintError(`the keyFile does not unlock the existing LUKS volume on ${device}; set wipeVolume to format it again`, where);
    log.info("keeping the existing LUKS volume", { device });
  } else {
    if (occupied) {
      const { wipeAllSignatures } = await import("../../system/wipefs");
      await wipeAllSignatures(device);
    }
    log.info(`formatting LUKS volume ${luks.name}`, { device, label: luks.label, uuid: luks.uuid });
    await cryptsetup.luksFormat({ device, keyFile: keyPath, label: luks.label, uuid: luks.uuid, options: luks.options ?? [] });
  }
  if (await rootIsThere(context.root)) {
    await copyKeyIntoRoot(context.root, luks.name, key);
    await addCrypttabEntry(context.root, luks, (await probe(device)).UUID ?? "");
  }
  return { device, keyPath };
}

/** Opens the volume as /dev/mapper/<name> unless it is open already. */
export async function openLuksVolume(luks: Luks, device: string, keyPath: string): Promise<void> {
  const mapper = mapperPath(luks.name);
  if (await stat(mapper).then(() => true, () => false)) {
    log.info("LUKS volume already open", { mapper });
    return;
  }
  const cryptsetup = await import("../../system/cryptsetup");
  const openOptions = [...(luks.openOptions ?? []), ...(luks.discard ? ["--allow-discards"] : [])];
  await cryptsetup.open(device, luks.name, keyPath, openOptions);
  const { settle } = await import("../../system/udevadm");
  await settle();
  await waitForDevice(mapper);
}

async function rootIsThere(root: string): Promise<boolean> {
  return stat(join(root, "etc")).then((s) => s.isDirectory(), () => false);
}

/**
 * The installed system needs the key to unlock the volume at every boot, and
 * a crypttab line naming it. In the initramfs the root is not mounted yet
 * during the disks stage, so the key waits in /run; `persistLuksVolumes`
 * puts keys and crypttab lines into the root once it is mounted. When the
 * root is already there (`flint apply --root DIR`), the disks stage does it.
 */
export async function persistLuksVolumes(volumes: Luks[], root: string, options: LuksOptions = {}): Promise<void> {
  const { readFile } = await import("node:fs/promises");
  const { probe } = await import("../../system/blkid");
  for (const luks of volumes) {
    const key = await readFile(join(options.keyDir ?? RUN_KEY_DIR, luks.name)).catch(() => undefined);
    if (!key) throw new FlintError(`no key for LUKS volume ${luks.name} in ${options.keyDir ?? RUN_KEY_DIR}; did the disks stage run?`, "storage.luks");
    await copyKeyIntoRoot(root, luks.name, key);
    const device = await waitForDevice(luks.device!);
    await addCrypttabEntry(root, luks, (await probe(device)).UUID ?? "");
  }
}

/** Adds or replaces the volume's line in <root>/etc/crypttab (Ignition's format). */
async function addCrypttabEntry(root: string, luks: Luks, uuid: string): Promise<void> {
  if (!uuid) throw new FlintError(`cannot read the LUKS uuid of ${luks.device}`, "storage.luks");
  const { readFile } = await import("node:fs/promises");
  const { ensureDirectory, createTempFile, commitTempFile } = await import("../../root/write");
  const etc = await ensureDirectory(root, "/etc");
  const path = join(etc, "crypttab");
  const old = await readFile(path, "utf8").catch(() => "");
  const options = ["luks", ...(luks.discard ? ["discard"] : [])].join(",");
  const line = `${luks.name} UUID=${uuid} ${join(ROOT_KEY_DIR, luks.name)} ${options}`;
  const kept = old.split("\n").filter((l) => l !== "" && l.split(/\s+/)[0] !== luks.name);
  const temp = await createTempFile(etc);
  try {
    await temp.handle.writeFile([...kept, line].join("\n") + "\n");
  } finally {
    await temp.handle.close();
  }
  await commitTempFile(temp.path, path, 0o644, { uid: 0, gid: 0 });
}

/** Writes the key to /etc/luks/<name> in the root, 0600, atomically. */
async function copyKeyIntoRoot(root: string, name: string, key: Buffer): Promise<void> {
  const { ensureDirectory, createTempFile, commitTempFile } = await import("../../root/write");
  const dir = await ensureDirectory(root, ROOT_KEY_DIR);
  await chmod(dir, 0o700);
  const temp = await createTempFile(dir);
  try {
    await temp.handle.writeFile(key);
    await temp.handle.sync();
  } finally {
    await temp.handle.close();
  }
  await commitTempFile(temp.path, join(dir, name), 0o600, { uid: 0, gid: 0 });
}
