// LUKS2 volumes: format each one with its key file (from the config, or a new
// random key), then open it as /dev/mapper/<name> so later filesystems can be
// made on it. The key goes to the files stage through ../luks-keys.ts.

import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import type { Luks } from "../../config/types";
import { deviceForStep, waitForDevice } from "../../devices/resolve";
import { FlintError } from "../../errors";
import { log } from "../../log";
import { rememberSecret } from "../../secrets";
import type { StageContext } from "../context";
import { installInRoot, rootKeyPath, writeRunKey, type KeyDirOption } from "../luks-keys";

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

export type LuksOptions = KeyDirOption;

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
    context.actions.push({ kind: "luks-key", target: rootKeyPath(luks.name) });
    return undefined;
  }
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
  context.actions.push({ kind: "luks-key", target: rootKeyPath(luks.name) });
  if (context.dryRun) return undefined;

  const key = luks.keyFile?.source
    ? await (await import("../../resource/index")).fetchToBuffer(luks.keyFile, { label: `${where}.keyFile`, maxBytes: 8 * 1024 * 1024 })
    : randomBytes(KEY_BYTES);
  if (luks.keyFile?.source) rememberSecret(key); // a fetched key may be a printable passphrase a tool could quote
  const keyPath = await writeRunKey(luks.name, key, options);
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
  if (await rootIsThere(context.root)) await installInRoot(context.root, luks, key, (await probe(device)).UUID ?? "", where);
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

/** Whether a root with an /etc is there to take the key now (`flint apply`); at boot the root is not mounted yet, or not even made. */
async function rootIsThere(root: string): Promise<boolean> {
  const { inspectInRoot } = await import("../../root/resolve");
  try {
    return inspectInRoot(root, "/etc", { followLast: true }).stat?.isDirectory() === true;
  } catch {
    return false; // no root directory at all
  }
}
