// The kargs stage: kernelArguments made to hold on the next boots, Flatcar's
// way (linux_append lines in grub.cfg on the partition labelled OEM), and a
// reboot asked for when this boot changed that file and the running command
// line is not what the config wants. Runs after the files stage; the
// reboot itself is the unit's (flint-kargs.service), on the marker left here.

import { mkdir, mkdtemp, open, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { DEFAULT_CMDLINE_FILE, tokenizeCmdline } from "../../boot/cmdline";
import type { Config, KernelArguments } from "../../config/types";
import { FlintError } from "../../errors";
import { log } from "../../log";
import type { Stage, StageContext } from "../context";
import { record } from "../files/record";
import { randomTempName } from "../../root/temp-name";
import { asToken, editGrubConfig, rebootNeeded } from "./grub";

export const OEM_LABEL = "OEM";
export const GRUB_CFG = "grub.cfg";
/** Left in the run directory when a reboot is needed; the unit reboots on it. */
export const REBOOT_MARKER = "kargs-reboot";
const DEFAULT_RUN_DIR = "/run/flint";

export interface KernelArgumentsChange {
  add: string[];
  remove: string[];
}

/** Arguments to add (wanted, absent) and to remove (unwanted, present), in config order. */
export function kernelArgumentsChange(wanted: KernelArguments, current: string[]): KernelArgumentsChange {
  const present = new Set(current);
  return {
    add: [...new Set(wanted.shouldExist ?? [])].filter((a) => !present.has(asToken(a))),
    remove: [...new Set(wanted.shouldNotExist ?? [])].filter((a) => present.has(asToken(a))),
  };
}

export const kargsStage: Stage = async (config: Config, ctx: StageContext) => {
  const wanted = config.kernelArguments;
  if (!wanted?.shouldExist?.length && !wanted?.shouldNotExist?.length) return;
  const running = tokenizeCmdline(await readFile(ctx.cmdlineFile ?? DEFAULT_CMDLINE_FILE, "utf8"));
  const change = kernelArgumentsChange(wanted, running);

  if (ctx.dryRun) {
    // A plan does not mount the OEM partition: it shows what the running kernel lacks.
    const where = `in ${GRUB_CFG} on the partition labelled ${OEM_LABEL}, then a reboot`;
    for (const arg of change.add) record(ctx, "karg-add", arg, where);
    for (const arg of change.remove) record(ctx, "karg-remove", arg, where);
    return;
  }

  let device = ctx.oemDevice;
  if (!device) {
    const { findDeviceByLabel } = await import("../../devices/resolve");
    try {
      device = await findDeviceByLabel(OEM_LABEL, "kernelArguments", "OEM partition");
    } catch (e) {
      // Nothing to change on this boot: the loader already passes what is wanted.
      if (!change.add.length && !change.remove.length) {
        log.warn(`the kernel command line already has what kernelArguments asks; not persisted: ${(e as Error).message}`);
        return;
      }
      throw e;
    }
  }

  const edit = await editOnDevice(device, wanted, ctx.runDir ?? DEFAULT_RUN_DIR);
  for (const arg of edit.added) record(ctx, "karg-add", arg, `${GRUB_CFG} on ${device}`);
  for (const arg of edit.removed) record(ctx, "karg-remove", arg, `${GRUB_CFG} on ${device}`);
  for (const arg of edit.notHere) {
    if (running.includes(asToken(arg))) log.warn(`kernel argument ${arg} is not added by ${GRUB_CFG}'s linux_append lines on ${device}; it cannot be removed there`);
  }

  if (rebootNeeded(edit.added.length + edit.removed.length > 0, wanted, running)) {
    const runDir = ctx.runDir ?? DEFAULT_RUN_DIR;
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    await writeFile(join(runDir, REBOOT_MARKER), "");
    record(ctx, "reboot", "kernel command line", `to apply ${[...change.add.map((a) => `+${a}`), ...change.remove.map((a) => `-${a}`)].join(" ")}`);
  }
};

/** Mounts the OEM filesystem privately, edits grub.cfg (temp name, fsync, rename), unmounts. */
async function editOnDevice(device: string, wanted: KernelArguments, runDir: string): Promise<ReturnType<typeof editGrubConfig>> {
  const { mount, umount } = await import("../../system/mount");
  await mkdir(runDir, { recursive: true, mode: 0o700 });
  const mountpoint = await mkdtemp(join(runDir, "oem-"));
  try {
    try {
      await mount(device, mountpoint, undefined);
    } catch (e) {
      throw new FlintError(`cannot mount the OEM partition to persist kernel arguments: ${(e as Error).message}`, device);
    }
    try {
      const path = join(mountpoint, GRUB_CFG);
      const before = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return "";
        throw new FlintError(`cannot read ${GRUB_CFG}: ${e.code ?? e.message}`, device);
      });
      const edit = editGrubConfig(before, wanted);
      if (edit.text !== before) await replaceFile(path, edit.text);
      return edit;
    } finally {
      await umount(mountpoint);
    }
  } finally {
    await rmdir(mountpoint).catch(() => undefined);
  }
}

async function replaceFile(path: string, text: string): Promise<void> {
  const temp = randomTempName(dirname(path), "kargs-");
  const handle = await open(temp, "wx", 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
