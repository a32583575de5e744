// Filesystems: make each configured filesystem, or keep the one already there
// when Ignition's reuse rules allow (right format, and label/uuid when given).

import type { Filesystem, FilesystemFormat } from "../../config/types";
import { deviceForStep } from "../../devices/resolve";
import { FlintError } from "../../errors";
import { log } from "../../log";
import type { StageContext } from "../context";

/** blkid's name for the format. */
function blkidType(format: FilesystemFormat): string {
  return format;
}

function sameUuid(format: FilesystemFormat, wanted: string, found: string | undefined): boolean {
  if (found === undefined) return false;
  const norm = (s: string) => (format === "vfat" ? s.replace("-", "") : s).toLowerCase();
  return norm(wanted) === norm(found);
}

/** Why the existing filesystem cannot be reused, or undefined when it can. */
function reuseMismatch(fs: Filesystem, found: Record<string, string>): string | undefined {
  const format = fs.format!;
  if (found.TYPE !== blkidType(format)) return `it holds ${found.TYPE ?? found.PTTYPE ?? "something"}, not ${format}`;
  if (fs.label !== undefined && fs.label !== (found.LABEL ?? "")) return `its label is ${JSON.stringify(found.LABEL ?? "")}, not ${JSON.stringify(fs.label)}`;
  if (fs.uuid !== undefined && !sameUuid(format, fs.uuid, found.UUID)) return `its uuid is ${found.UUID ?? "unset"}, not ${fs.uuid}`;
  return undefined;
}

export async function makeFilesystems(filesystems: Filesystem[], context: StageContext): Promise<void> {
  const { probe } = await import("../../system/blkid");
  for (const [index, fs] of filesystems.entries()) {
    if (fs.format === undefined) continue; // only mounted or written to, never made
    const where = `storage.filesystems.${index}`;
    const device = await deviceForStep(fs.device, context.dryRun, `${where}.device`);
    if (device === undefined) {
      context.actions.push({ kind: "mkfs", target: fs.device, detail: `create ${fs.format} (device not present yet)` });
      continue;
    }
    const found = await probe(device);
    const occupied = found.TYPE !== undefined || found.PTTYPE !== undefined;
    const wipe = fs.wipeFilesystem === true;

    if (occupied && !wipe) {
      if (fs.format === "none") throw new FlintError(`${device} already holds ${found.TYPE ?? `a ${found.PTTYPE} partition table`} and the format is none; set wipeFilesystem to erase it`, where);
      const why = reuseMismatch(fs, found);
      if (why) throw new FlintError(`cannot reuse the filesystem on ${device}: ${why}; set wipeFilesystem to replace it`, where);
      log.info(`keeping the existing ${fs.format} filesystem`, { device, label: found.LABEL, uuid: found.UUID });
      context.actions.push({ kind: "mkfs", target: device, detail: `reuse existing ${fs.format}` });
      continue;
    }

    context.actions.push({ kind: "mkfs", target: device, detail: fs.format === "none" ? "wipe" : `${occupied ? "wipe and " : ""}create ${fs.format}` });
    if (context.dryRun) continue;
    if (occupied) {
      const { wipeAllSignatures } = await import("../../system/wipefs");
      await wipeAllSignatures(device);
    }
    if (fs.format === "none") continue;
    const { makeFilesystem } = await import("../../system/mkfs");
    log.info(`making ${fs.format} on ${device}`, { label: fs.label, uuid: fs.uuid });
    await makeFilesystem(fs.format, device, { label: fs.label, uuid: fs.uuid, options: fs.options });
  }
  const { settle } = await import("../../system/udevadm");
  if (!context.dryRun) await settle();
}
