// Validation of block-device configuration: disks and partitions, RAID,
// filesystems and LUKS volumes.

import { at, pathOf, type Where } from "../issues";
import type { Disk, Filesystem, Luks, Partition, Raid, Storage } from "../types";
import { allowedFormats } from "../version";
import { checkGuid, checkPath, checkUnique, checkUniqueStrings, type ValidateContext } from "./common";
import { validateResource, validateUrl } from "./resource";

export function validateBlockStorage(cx: ValidateContext, s: Storage, path: Where): void {
  s.disks?.forEach((d, i) => validateDisk(cx, d, at(path, "disks", i)));
  checkUnique(cx, s.disks, at(path, "disks"), (d) => d.device, "device", "disk");
  s.raid?.forEach((r, i) => validateRaid(cx, r, at(path, "raid", i)));
  checkUnique(cx, s.raid, at(path, "raid"), (r) => r.name, "name", "RAID array");
  s.filesystems?.forEach((fs, i) => validateFilesystem(cx, fs, at(path, "filesystems", i)));
  checkUnique(cx, s.filesystems, at(path, "filesystems"), (fs) => fs.device, "device", "filesystem device");
  warnSharedMountPaths(cx, s.filesystems, at(path, "filesystems"));
  s.luks?.forEach((l, i) => validateLuks(cx, l, at(path, "luks", i)));
  checkUnique(cx, s.luks, at(path, "luks"), (l) => l.name, "name", "LUKS volume");
  checkFilesystemsOnDisks(cx, s, path);
}

/** A filesystem on a whole disk that the config also partitions, or whose table it wipes. */
function checkFilesystemsOnDisks(cx: ValidateContext, s: Storage, path: Where): void {
  if (!s.disks?.length || !s.filesystems?.length) return;
  const disks = new Map(s.disks.map((d) => [d.device, d]));
  s.filesystems.forEach((fs, i) => {
    const disk = disks.get(fs.device);
    if (!disk) return;
    if (disk.partitions?.length) cx.issues.warn(at(path, "filesystems", i, "device"), `filesystem overwrites disk ${fs.device}, which this config partitions`);
    else if (disk.wipeTable && fs.wipeFilesystem !== true) cx.issues.warn(at(path, "filesystems", i, "device"), `disk ${fs.device} has wipeTable set, so this filesystem will be wiped`);
  });
}

export function validateDisk(cx: ValidateContext, d: Disk, path: Where): void {
  checkPath(cx, d.device, at(path, "device"), "device");
  const parts = d.partitions ?? [];
  parts.forEach((p, i) => validatePartition(cx, p, at(path, "partitions", i)));
  checkUnique(cx, parts, at(path, "partitions"), (p) => (p.number ? String(p.number) : undefined), "number", "partition number");
  checkUnique(cx, parts, at(path, "partitions"), (p) => p.label, "label", "partition label");
  checkOverlaps(cx, parts, at(path, "partitions"));
  // Deleting by number while other entries take "the next free number" is ambiguous.
  if (parts.some((p) => p.shouldExist === false) && parts.some((p) => !p.number)) {
    cx.issues.error(at(path, "partitions"), "when a partition has shouldExist false, every partition on the disk needs a number");
  }
}

const NOT_WITH_SHOULD_NOT_EXIST = ["label", "sizeMiB", "startMiB", "typeGuid", "guid"] as const;

/** A GPT holds 128 entries (sgdisk's and Ignition's limit). */
export const GPT_MAX_PARTITIONS = 128;

export function validatePartition(cx: ValidateContext, p: Partition, path: Where): void {
  if (!p.number && p.label === undefined) cx.issues.error(path, "a partition needs a number (1 or more) or a label to be found by");
  if (p.number !== undefined && p.number < 0) cx.issues.error(at(path, "number"), `partition number must not be negative (got ${p.number})`);
  else if (p.number !== undefined && p.number > GPT_MAX_PARTITIONS) cx.issues.error(at(path, "number"), `partition number must be at most ${GPT_MAX_PARTITIONS}, the entries of a GPT (got ${p.number})`);
  if (p.sizeMiB !== undefined && p.sizeMiB < 0) cx.issues.error(at(path, "sizeMiB"), `sizeMiB must not be negative (got ${p.sizeMiB})`);
  if (p.startMiB !== undefined && p.startMiB < 0) cx.issues.error(at(path, "startMiB"), `startMiB must not be negative (got ${p.startMiB})`);
  if (p.label !== undefined) {
    if (p.label.includes("\0")) cx.issues.error(at(path, "label"), "partition label must not contain a NUL character");
    if (p.label.length > 36) cx.issues.error(at(path, "label"), `partition label is ${p.label.length} characters long; GPT allows at most 36`);
    if (p.label.includes(":")) cx.issues.error(at(path, "label"), `partition label must not contain ":" (got ${JSON.stringify(p.label)})`);
  }
  checkGuid(cx, p.typeGuid, at(path, "typeGuid"), "typeGuid");
  checkGuid(cx, p.guid, at(path, "guid"), "guid");
  if (p.shouldExist === false) {
    if (!p.number) cx.issues.error(at(path, "number"), "a partition with shouldExist false needs a non-zero number");
    for (const key of NOT_WITH_SHOULD_NOT_EXIST) {
      if (p[key] !== undefined) cx.issues.error(at(path, key), `${key} must not be set when shouldExist is false`);
    }
  }
}

/**
 * Partitions whose start (non-zero) and size are both given must not overlap.
 * A size of 0 ("fill the free space") counts as its start MiB only, as in Ignition.
 */
function checkOverlaps(cx: ValidateContext, parts: Partition[], path: Where): void {
  const placed = parts
    .map((p, i) => ({ i, start: p.startMiB ?? 0, size: p.sizeMiB }))
    .filter((r) => r.start > 0 && r.size !== undefined)
    .map((r) => ({ i: r.i, start: r.start, last: r.size ? r.start + r.size! - 1 : r.start }))
    .sort((a, b) => a.start - b.start);
  let reach = placed[0];
  for (let k = 1; k < placed.length; k++) {
    const cur = placed[k]!;
    if (cur.start <= reach!.last) cx.issues.error(at(path, cur.i), `partition overlaps ${pathOf(at(path, reach!.i)).join(".")} (MiB ${cur.start}–${cur.last} and ${reach!.start}–${reach!.last})`);
    if (cur.last > reach!.last) reach = cur;
  }
}

/** Every RAID level spelling Ignition accepts, with mdadm's name for it and whether the level can have spares. */
export const RAID_LEVELS: Record<string, { mdadm: string; spares: boolean }> = {
  linear: { mdadm: "linear", spares: false },
  raid0: { mdadm: "raid0", spares: false },
  "0": { mdadm: "raid0", spares: false },
  stripe: { mdadm: "raid0", spares: false },
  raid1: { mdadm: "raid1", spares: true },
  "1": { mdadm: "raid1", spares: true },
  mirror: { mdadm: "raid1", spares: true },
  raid4: { mdadm: "raid4", spares: true },
  "4": { mdadm: "raid4", spares: true },
  raid5: { mdadm: "raid5", spares: true },
  "5": { mdadm: "raid5", spares: true },
  raid6: { mdadm: "raid6", spares: true },
  "6": { mdadm: "raid6", spares: true },
  raid10: { mdadm: "raid10", spares: true },
  "10": { mdadm: "raid10", spares: true },
};

export function validateRaid(cx: ValidateContext, r: Raid, path: Where): void {
  if (r.name === "") cx.issues.error(at(path, "name"), "name must not be empty");
  else if (r.name?.includes("/")) cx.issues.error(at(path, "name"), `RAID name must not contain "/" (got ${JSON.stringify(r.name)})`);
  if (r.level === undefined || r.level === "") cx.issues.error(at(path, "level"), "level is required (linear, raid0, raid1, raid4, raid5, raid6 or raid10)");
  else if (!Object.hasOwn(RAID_LEVELS, r.level)) cx.issues.error(at(path, "level"), `unknown RAID level ${JSON.stringify(r.level)}`);
  else if (r.spares && !RAID_LEVELS[r.level]!.spares) cx.issues.error(at(path, "spares"), `RAID level ${r.level} cannot have spares`);
  if (r.spares !== undefined && r.spares < 0) cx.issues.error(at(path, "spares"), "spares must not be negative");
  // Ignition accepts it; mdadm refuses it when the array is made.
  else if (r.spares && r.devices?.length && r.spares >= r.devices.length) cx.issues.doubt(at(path, "spares"), `${r.spares} spare(s) leave no active member among ${r.devices.length} device(s): mdadm will refuse to create the array`);
  if (!r.devices?.length) cx.issues.error(at(path, "devices"), "devices is required: list the member devices");
  r.devices?.forEach((d, i) => checkPath(cx, d, at(path, "devices", i), "device"));
  checkUniqueStrings(cx, r.devices, at(path, "devices"), "RAID member device");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VFAT_VOLUME_ID = /^[0-9a-f]{4}-?[0-9a-f]{4}$/i;

/** mkfs label limits per format, in bytes (mkfs counts bytes, not characters). */
const LABEL_LIMITS: Record<string, number> = { ext4: 16, xfs: 12, swap: 15, vfat: 11, btrfs: 256 };

export function validateFilesystem(cx: ValidateContext, fs: Filesystem, path: Where): void {
  const format = fs.format as string | undefined;
  if (format === "virtiofs") validateVirtiofsTag(cx, fs, path);
  else checkPath(cx, fs.device, at(path, "device"), "device");
  checkPath(cx, fs.path, at(path, "path"));
  if (format === undefined || format === "") {
    const others = [
      fs.path ? "path" : "",
      fs.label ? "label" : "",
      fs.uuid ? "uuid" : "",
      fs.wipeFilesystem === true ? "wipeFilesystem" : "",
      fs.options?.length ? "options" : "",
      fs.mountOptions?.length ? "mountOptions" : "",
    ].filter(Boolean);
    if (others.length) cx.issues.error(at(path, "format"), `format is required when ${others.join(", ")} ${others.length > 1 ? "are" : "is"} set`);
  } else if (!allowedFormats(cx.minor).includes(format)) {
    cx.issues.error(at(path, "format"), `unknown filesystem format ${JSON.stringify(format)} (spec 3.${cx.minor}.0 allows ${allowedFormats(cx.minor).join(", ")})`);
  } else if (fs.label && LABEL_LIMITS[format] !== undefined && Buffer.byteLength(fs.label) > LABEL_LIMITS[format]!) {
    cx.issues.error(at(path, "label"), `a ${format} label is at most ${LABEL_LIMITS[format]} bytes (got ${Buffer.byteLength(fs.label)})`);
  }
  if (fs.uuid && format && format !== "none" && format !== "virtiofs") {
    const ok = format === "vfat" ? VFAT_VOLUME_ID.test(fs.uuid) : UUID.test(fs.uuid);
    // Ignition does not check it; mkfs refuses it when the filesystem is made.
    if (!ok) cx.issues.doubt(at(path, "uuid"), `not a valid ${format} uuid (got ${JSON.stringify(fs.uuid)}${format === "vfat" ? "; a vfat uuid is a volume id like 1234-ABCD" : ""}): mkfs will refuse it`);
  }
  if (fs.label?.includes("\0")) cx.issues.error(at(path, "label"), "filesystem label must not contain a NUL character");
}

/** virtiofs (3.7.0-experimental): the device is a tag, not a path, and nothing is formatted. */
function validateVirtiofsTag(cx: ValidateContext, fs: Filesystem, path: Where): void {
  if (!fs.device) cx.issues.error(at(path, "device"), "device (the virtiofs tag) must not be empty");
  else if (fs.device.length > 36) cx.issues.error(at(path, "device"), `a virtiofs tag is at most 36 characters (got ${fs.device.length})`);
  if (fs.wipeFilesystem === true) cx.issues.error(at(path, "wipeFilesystem"), "a virtiofs filesystem cannot be wiped");
  if (fs.options?.length) cx.issues.error(at(path, "options"), "a virtiofs filesystem has no mkfs options");
}

/** Ignition mounts two filesystems with one path one over the other: valid, but the earlier one is hidden. */
function warnSharedMountPaths(cx: ValidateContext, filesystems: Filesystem[] | undefined, path: Where): void {
  const first = new Map<string, number>();
  filesystems?.forEach((fs, i) => {
    if (!fs.path || fs.format === "swap" || fs.format === "none") return;
    const earlier = first.get(fs.path);
    if (earlier === undefined) first.set(fs.path, i);
    else cx.issues.doubt(at(path, i, "path"), `filesystems ${earlier} and ${i} are both mounted at ${fs.path}: this one goes over the other and hides it`);
  });
}

const CLEVIS_PINS = ["tpm2", "tang", "sss"];

/**
 * cex keys are IBM Crypto Express secure keys made by zkey through the
 * adjunct processor bus (/sys/bus/ap), which only IBM Z has: Ignition's disks
 * stage fails without it, and Flint does not drive zkey on any machine.
 */
const CEX_UNSUPPORTED =
  process.arch === "s390x"
    ? "cex (IBM Crypto Express secure keys made with zkey) is not supported by Flint; use a keyFile or clevis"
    : `cex needs IBM Crypto Express adapters, which only IBM Z (s390x) has: it cannot work on ${process.arch}, in Ignition or in Flint; use a keyFile or clevis`;

export function validateLuks(cx: ValidateContext, l: Luks, path: Where): void {
  if (l.name === "") cx.issues.error(at(path, "name"), "name must not be empty");
  else if (l.name?.includes("/")) cx.issues.error(at(path, "name"), `LUKS name must not contain "/" (got ${JSON.stringify(l.name)})`);
  if (l.device === undefined || l.device === "") cx.issues.error(at(path, "device"), "device is required");
  else checkPath(cx, l.device, at(path, "device"), "device");
  if (l.label?.includes("\0")) cx.issues.error(at(path, "label"), "LUKS label must not contain a NUL character");
  if (l.label !== undefined && l.label.length > 47) cx.issues.error(at(path, "label"), `a LUKS label is at most 47 characters (got ${l.label.length})`);
  if (l.keyFile) validateResource(cx, l.keyFile, at(path, "keyFile"));
  // Ignition keys openOptions (not options) by value.
  checkUniqueStrings(cx, l.openOptions, at(path, "openOptions"), "open option");
  const c = l.clevis;
  if (c) {
    const cp = at(path, "clevis");
    c.tang?.forEach((t, i) => {
      const tp = at(cp, "tang", i);
      if (t.url !== undefined) {
        const scheme = validateUrl(cx, t.url, at(tp, "url"));
        if (scheme !== undefined && scheme !== "http" && scheme !== "https") cx.issues.error(at(tp, "url"), `a tang URL must be http or https, not ${scheme}`);
      }
      if (!t.thumbprint) cx.issues.error(at(tp, "thumbprint"), "thumbprint is required");
      if (t.advertisement !== undefined) {
        try {
          JSON.parse(t.advertisement);
        } catch {
          cx.issues.error(at(tp, "advertisement"), "advertisement must be valid JSON");
        }
      }
    });
    checkUnique(cx, c.tang, at(cp, "tang"), (t) => t.url, "url", "tang server");
    if (c.threshold !== undefined && c.threshold < 1) cx.issues.error(at(cp, "threshold"), "threshold must be at least 1");
    const custom = c.custom;
    if (custom && (custom.pin !== undefined || custom.config !== undefined || custom.needsNetwork !== undefined)) {
      // 3.6.0 takes any pin's name (a pin installed in the image); before it, only clevis's own three.
      if (!custom.pin) cx.issues.error(at(cp, "custom", "pin"), "a custom pin is required with a custom config");
      else if (cx.minor < 6 && !CLEVIS_PINS.includes(custom.pin)) cx.issues.error(at(cp, "custom", "pin"), `custom pin must be one of ${CLEVIS_PINS.join(", ")} before spec 3.6.0 (got ${JSON.stringify(custom.pin)})`);
      if (!custom.config) cx.issues.error(at(cp, "custom", "config"), "custom config is required with a custom pin");
      if (c.tang?.length || c.tpm2 || c.threshold !== undefined) cx.issues.error(at(cp, "custom"), "custom clevis configuration cannot be combined with tang, tpm2 or threshold");
    }
  }
  if (l.cex?.enabled) {
    // Refused before the disks stage starts, not halfway through it.
    cx.issues.error(at(path, "cex", "enabled"), CEX_UNSUPPORTED);
    if (c && (c.tang?.length || c.tpm2 || c.custom?.pin)) cx.issues.error(at(path, "cex"), "cex cannot be combined with clevis");
    if (l.keyFile?.source !== undefined) cx.issues.error(at(path, "cex"), "cex cannot be combined with a keyFile");
  }
}
