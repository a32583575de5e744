// Pure planning of one disk's partition changes with Ignition's semantics
// (see docs/disks.md and Ignition's operator notes): which existing entries are
// kept, resized, deleted or created, and the exact sectors of every new one.
// Nothing here touches a disk, so a bad config fails before any change.

import { GPT_MAX_PARTITIONS } from "../../config/index";
import type { Disk, Partition } from "../../config/types";
import { FlintError } from "../../errors";
import type { TablePartition } from "../../system/sfdisk";
import type { SgdiskOp } from "../../system/sgdisk";

/** What is on the disk now, as read from its partition table. */
export interface DiskState {
  sectorSize: number;
  totalSectors: number;
  /** Undefined when the disk has no partition table yet. */
  table?: {
    kind: string;
    firstUsable: number;
    lastUsable: number;
    partitions: ExistingPartition[];
  };
}

/** One entry of the table as read by sfdisk (sectors). */
export type ExistingPartition = TablePartition;

export type PartitionAction =
  | { kind: "keep"; number: number }
  | { kind: "create"; number: number; start: number; size: number; label?: string }
  | { kind: "recreate"; number: number; start: number; size: number; label?: string }
  | { kind: "resize"; number: number; start: number; size: number; oldSize: number }
  | { kind: "delete"; number: number }
  | { kind: "absent"; number: number };

export interface PartitionPlan {
  /** sgdisk changes, deletes first; empty when the disk is already as wanted. */
  ops: SgdiskOp[];
  actions: PartitionAction[];
  /** Partition numbers that exist when the plan has run. */
  finalNumbers: number[];
  /** Labels of the partitions the config names (for waiting on by-partlabel links). */
  labels: string[];
}

interface Region {
  start: number;
  end: number;
}

interface Placed {
  number: number;
  start: number;
  end: number;
}

/** Usable sectors of a new GPT with the standard 128-entry array. */
export function newTableBounds(totalSectors: number, sectorSize: number): { firstUsable: number; lastUsable: number } {
  const arraySectors = Math.ceil((128 * 128) / sectorSize);
  return { firstUsable: 2 + arraySectors, lastUsable: totalSectors - 2 - arraySectors };
}

function describeSectors(sectors: number, sectorsPerMiB: number): string {
  return sectors % sectorsPerMiB === 0 ? `${sectors / sectorsPerMiB} MiB` : `${sectors} sectors`;
}

/** Free gaps between the placed partitions, inside the usable area. */
function freeRegions(placed: Placed[], firstUsable: number, lastUsable: number): Region[] {
  const regions: Region[] = [];
  let cursor = firstUsable;
  for (const p of [...placed].sort((a, b) => a.start - b.start)) {
    if (p.start > cursor) regions.push({ start: cursor, end: p.start - 1 });
    cursor = Math.max(cursor, p.end + 1);
  }
  if (cursor <= lastUsable) regions.push({ start: cursor, end: lastUsable });
  return regions;
}

const alignUp = (sector: number, align: number) => Math.ceil(sector / align) * align;

const isTrue = (v: boolean | undefined) => v === true;
const shouldExist = (p: Partition) => p.shouldExist !== false;
const notEmpty = (s: string | undefined): s is string => s !== undefined && s !== "";

/**
 * Plans `disk` against `state`. `where` is the config path of the disk
 * (`storage.disks.0`), used in every error.
 */
export function planPartitions(disk: Disk, state: DiskState, where: string): PartitionPlan {
  const sectorsPerMiB = (1024 * 1024) / state.sectorSize;
  const specs = (disk.partitions ?? []).map((spec, index) => ({ spec, path: `${where}.partitions.${index}` }));

  // The config's own rules (numbers 0-128 and unique, sizes not negative,
  // numbers wherever a partition must not exist) were checked by validation;
  // what follows needs the disk's table.
  const wipeTable = isTrue(disk.wipeTable);
  if (!wipeTable && state.table && state.table.kind !== "gpt") {
    throw new FlintError(`the disk has a ${state.table.kind} partition table, not GPT; set wipeTable to replace it`, `${where}.device`);
  }
  const existingList = wipeTable || !state.table ? [] : state.table.partitions;
  const fresh = newTableBounds(state.totalSectors, state.sectorSize);
  // A disk image written to a larger disk keeps its backup table at the old
  // end; moving it to the real end makes the new space usable.
  const grown = !wipeTable && state.table !== undefined && state.table.lastUsable < fresh.lastUsable;
  const bounds = wipeTable || !state.table ? fresh : { firstUsable: state.table.firstUsable, lastUsable: grown ? fresh.lastUsable : state.table.lastUsable };
  const existing = new Map(existingList.map((p) => [p.number, p]));

  // Number 0 goes last, as in Ignition, so explicit numbers are taken first.
  const ordered = [...specs.filter(({ spec }) => (spec.number ?? 0) !== 0), ...specs.filter(({ spec }) => (spec.number ?? 0) === 0)];

  // Where would every wanted partition go if each one the config names were
  // deleted and created again in order? That resolves start/size 0, and proves
  // everything fits, before anything is decided.
  const mentioned = new Set(ordered.map(({ spec }) => spec.number ?? 0).filter((n) => n !== 0));
  const placed: Placed[] = existingList.filter((p) => !mentioned.has(p.number)).map((p) => ({ number: p.number, start: p.start, end: p.start + p.size - 1 }));
  const resolved = new Map<string, Placed>();
  for (const { spec, path } of ordered) {
    if (!shouldExist(spec)) continue;
    const old = spec.number ? existing.get(spec.number) : undefined;
    const keepOld = old !== undefined && !isTrue(spec.wipePartitionEntry);
    let start = spec.startMiB !== undefined ? spec.startMiB * sectorsPerMiB : keepOld ? old.start : 0;
    const size = spec.sizeMiB !== undefined ? spec.sizeMiB * sectorsPerMiB : keepOld ? old.size : 0;
    const regions = freeRegions(placed, bounds.firstUsable, bounds.lastUsable);
    if (start === 0) {
      let best: { start: number; end: number } | undefined;
      for (const r of regions) {
        const s = alignUp(r.start, sectorsPerMiB);
        if (s <= r.end && (!best || r.end - s > best.end - best.start)) best = { start: s, end: r.end };
      }
      if (!best) throw new FlintError("does not fit: the disk has no free space left", path);
      start = best.start;
    }
    const region = regions.find((r) => r.start <= start && start <= r.end);
    if (!region) {
      const clash = placed.find((p) => p.start <= start && start <= p.end);
      const why = clash ? `it would start inside partition ${clash.number}` : `the usable sectors are ${bounds.firstUsable}–${bounds.lastUsable}`;
      throw new FlintError(`does not fit: start sector ${start} is not free (${why})`, path);
    }
    if (size === 0) {
      // sgdisk ends a size-0 partition where the largest free block ends, so a
      // start in any other block fails there (Ignition's operator notes); fail
      // the same way, before anything is written.
      const largest = regions.reduce((a, b) => (b.end - b.start > a.end - a.start ? b : a));
      if (largest !== region) {
        throw new FlintError(
          `does not fit: sizeMiB 0 fills the largest free block (sectors ${largest.start}–${largest.end}), but the start sector ${start} lies in a smaller free block (sectors ${region.start}–${region.end}); give a size, or start it in the largest block`,
          path,
        );
      }
    }
    const end = size === 0 ? region.end : start + size - 1;
    if (end > region.end) {
      const free = region.end - start + 1;
      throw new FlintError(`does not fit: needs ${describeSectors(size, sectorsPerMiB)} from sector ${start}, but only ${describeSectors(free, sectorsPerMiB)} are free there`, path);
    }
    let number = spec.number ?? 0;
    if (number === 0) {
      number = 1;
      while (placed.some((p) => p.number === number)) number++;
      if (number > GPT_MAX_PARTITIONS) throw new FlintError(`no free partition number left (GPT holds ${GPT_MAX_PARTITIONS})`, path);
    }
    const p = { number, start, end };
    placed.push(p);
    resolved.set(path, p);
  }

  const deletes: SgdiskOp[] = [];
  const creates: SgdiskOp[] = [];
  const actions: PartitionAction[] = [];
  for (const { spec, path } of ordered) {
    const number = spec.number ?? 0;
    const old = number !== 0 ? existing.get(number) : undefined;
    const wipe = isTrue(spec.wipePartitionEntry);
    const target = resolved.get(path);
    const create = (kind: "create" | "recreate") => {
      const t = target!;
      creates.push({ op: "create", number: t.number, start: t.start, end: t.end, label: spec.label, typeGuid: notEmpty(spec.typeGuid) ? spec.typeGuid : undefined, guid: notEmpty(spec.guid) ? spec.guid : undefined });
      actions.push({ kind, number: t.number, start: t.start, size: t.end - t.start + 1, label: spec.label });
    };

    if (!shouldExist(spec)) {
      if (!old) actions.push({ kind: "absent", number });
      else if (!wipe) throw new FlintError(`partition ${number} exists but shouldExist is false and wipePartitionEntry is not set`, path);
      else {
        deletes.push({ op: "delete", number });
        actions.push({ kind: "delete", number });
      }
      continue;
    }
    if (!old) {
      create("create");
      continue;
    }
    const difference = firstDifference(spec, old, target!, sectorsPerMiB);
    if (!difference) {
      actions.push({ kind: "keep", number });
      continue;
    }
    if (wipe) {
      deletes.push({ op: "delete", number });
      create("recreate");
      continue;
    }
    const onlySize = difference.field === "sizeMiB" && !firstDifference(spec, old, target!, sectorsPerMiB, { ignoreSize: true });
    if (onlySize && isTrue(spec.resize)) {
      const t = target!;
      // Same place, same identity, new size: the data on it stays.
      deletes.push({ op: "delete", number });
      creates.push({ op: "create", number, start: old.start, end: t.end, label: old.label, typeGuid: old.typeGuid, guid: old.guid });
      actions.push({ kind: "resize", number, start: old.start, size: t.end - old.start + 1, oldSize: old.size });
      continue;
    }
    const hint = onlySize ? "set resize to change its size, or wipePartitionEntry to recreate it" : "set wipePartitionEntry to recreate it";
    throw new FlintError(`partition ${number} does not match: ${difference.field} differs (config ${difference.wanted}, disk ${difference.found}); ${hint}`, `${path}.${difference.field}`);
  }

  const changes = [...deletes, ...creates];
  const prefix: SgdiskOp[] = wipeTable ? [{ op: "clear" }] : grown && changes.length > 0 ? [{ op: "move-backup-to-end" }] : [];
  const ops: SgdiskOp[] = wipeTable || changes.length > 0 ? [...prefix, ...changes] : [];
  return {
    ops,
    actions,
    finalNumbers: placed.map((p) => p.number).sort((a, b) => a - b),
    labels: specs.filter(({ spec }) => shouldExist(spec) && notEmpty(spec.label)).map(({ spec }) => spec.label!),
  };
}

/** The first field the config sets that the existing entry does not have, in Ignition's order. */
function firstDifference(spec: Partition, old: ExistingPartition, target: Placed, sectorsPerMiB: number, options: { ignoreSize?: boolean } = {}): { field: keyof Partition; wanted: string; found: string } | undefined {
  if (spec.startMiB !== undefined && target.start !== old.start) {
    return { field: "startMiB", wanted: describeSectors(target.start, sectorsPerMiB), found: describeSectors(old.start, sectorsPerMiB) };
  }
  const size = target.end - target.start + 1;
  if (spec.sizeMiB !== undefined && size !== old.size && !options.ignoreSize) {
    return { field: "sizeMiB", wanted: describeSectors(size, sectorsPerMiB), found: describeSectors(old.size, sectorsPerMiB) };
  }
  if (notEmpty(spec.guid) && spec.guid.toLowerCase() !== old.guid) return { field: "guid", wanted: spec.guid, found: old.guid };
  if (notEmpty(spec.typeGuid) && spec.typeGuid.toLowerCase() !== old.typeGuid) return { field: "typeGuid", wanted: spec.typeGuid, found: old.typeGuid };
  if (spec.label !== undefined && spec.label !== old.label) return { field: "label", wanted: JSON.stringify(spec.label), found: JSON.stringify(old.label) };
  return undefined;
}
