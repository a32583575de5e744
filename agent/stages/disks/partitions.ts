// Partitioning: read each disk's table, plan every disk (so a bad config fails
// before any disk changes), then run one sgdisk per disk and wait for the
// kernel and udev to show the new partitions.

import type { Disk } from "../../config/types";
import { deviceForStep, resolveDevicePath, waitForDevice } from "../../devices/resolve";
import { FlintError } from "../../errors";
import { partitionNode } from "../../devices/partition-node";
import { log, logLevelEnabled } from "../../log";
import type { StageContext } from "../context";
import { planPartitions, type DiskState, type PartitionPlan } from "./partition-plan";

export interface DiskWork {
  where: string;
  configured: string;
  device: string;
  plan: PartitionPlan;
  /** Partition numbers the kernel knew before the change. */
  before: Set<number>;
}

export async function readDiskState(device: string): Promise<DiskState> {
  const { describe } = await import("../../system/lsblk");
  const { readTable } = await import("../../system/sfdisk");
  const info = await describe(device);
  const table = await readTable(device);
  return {
    sectorSize: info.logicalSectorSize,
    totalSectors: Math.floor(info.sizeBytes / info.logicalSectorSize),
    table: table && { kind: table.kind, firstUsable: table.firstUsable, lastUsable: table.lastUsable, partitions: table.partitions },
  };
}

/** Resolves, reads and plans every disk; throws on the first problem, having changed nothing. */
export async function planDisks(disks: Disk[], context: StageContext): Promise<DiskWork[]> {
  const work: DiskWork[] = [];
  for (const [index, disk] of disks.entries()) {
    const where = `storage.disks.${index}`;
    // A plan cannot be made without reading the disk, so even a dry run needs it (but does not wait).
    const device = context.dryRun ? await resolveDevicePath(disk.device) : await deviceForStep(disk.device, false, `${where}.device`);
    if (device === undefined) throw new FlintError("device not present; cannot plan its partitions", `${where}.device (${disk.device})`);
    if (work.some((w) => w.device === device)) throw new FlintError(`the same disk as ${work.find((w) => w.device === device)!.where} (${device})`, `${where}.device`);
    const state = await readDiskState(device);
    const plan = planPartitions(disk, state, where);
    await refuseChangesInUse(plan, device, where);
    if (logLevelEnabled("debug")) log.debug(`partition plan for ${device}: ${JSON.stringify(plan.actions)}`);
    const before = new Set((state.table?.partitions ?? []).map((p) => p.number));
    work.push({ where, configured: disk.device, device, plan, before });
  }
  return work;
}

/** As Ignition: never rewrite a disk in use itself, nor change a mounted or held partition. */
async function refuseChangesInUse(plan: PartitionPlan, device: string, where: string): Promise<void> {
  if (plan.ops.length === 0) return;
  const { diskUsage } = await import("../../devices/usage");
  const usage = await diskUsage(device);
  if (usage.diskInUse) throw new FlintError(`refusing to partition ${device}: the disk itself is mounted or in use`, where);
  if (plan.ops.some((op) => op.op === "clear") && usage.activePartitions.size > 0) {
    throw new FlintError(`refusing to wipe the table of ${device}: partition(s) ${[...usage.activePartitions].join(", ")} are mounted or in use`, `${where}.wipeTable`);
  }
  for (const op of plan.ops) {
    if ("number" in op && usage.activePartitions.has(op.number)) throw new FlintError(`refusing to change partition ${op.number} of ${device}: it is mounted or in use`, where);
  }
}

/** Applies one disk's plan and waits until its partitions are usable. */
export async function applyDiskPlan(work: DiskWork, context: StageContext): Promise<void> {
  const { plan, device } = work;
  for (const action of plan.actions) {
    if (action.kind === "keep" || action.kind === "absent") continue;
    const detail = "size" in action ? `${action.kind} start=${action.start} sectors=${action.size}` : action.kind;
    context.actions.push({ kind: "partition", target: partitionNode(device, action.number), detail });
  }
  if (context.dryRun || plan.ops.length === 0) {
    if (plan.ops.length === 0) log.info("partitions already as configured", { device });
    return;
  }
  const { apply, sgdiskArgs } = await import("../../system/sgdisk");
  log.info(`partitioning ${device}`, { sgdisk: sgdiskArgs(plan.ops).join(" ") });
  await apply(device, plan.ops);
  const { settle } = await import("../../system/udevadm");
  await settle(); // let udev finish probing the rewritten disk before partitions change under it

  // Tell the kernel partition by partition (BLKPG): a whole-table re-read fails
  // on loop devices and on disks with a mounted partition.
  const partx = await import("../../system/partx");
  const changed = new Set(plan.ops.flatMap((op) => ("number" in op ? [op.number] : [])));
  const wiped = plan.ops.some((op) => op.op === "clear");
  const touched = wiped ? new Set([...work.before, ...plan.finalNumbers]) : changed;
  const final = new Set(plan.finalNumbers);
  for (const n of [...touched].sort((a, b) => a - b)) {
    const known = work.before.has(n) && (await waitForDevice(partitionNode(device, n), 0).then(() => true, () => false));
    if (!final.has(n)) await whileBusy(() => partx.removePartition(device, n));
    else await partx.refreshPartition(device, n, known);
  }
  await settle();
  const named = (e: unknown, what: string) => Object.assign(e as Error, { where: `${work.where} (${work.configured}): ${what}` });
  await Promise.all(plan.finalNumbers.map((n) => waitForDevice(partitionNode(device, n)).catch((e) => Promise.reject(named(e, `partition ${n} (${partitionNode(device, n)})`)))));
  const { udevRunning } = await import("../../devices/udev");
  if (await udevRunning()) await Promise.all(plan.labels.map((label) => waitForDevice(`/dev/disk/by-partlabel/${udevEncode(label)}`).catch((e) => Promise.reject(named(e, `udev link for partition label ${JSON.stringify(label)}`)))));
}

/**
 * Retries a partx change for a few seconds: udev (or any prober) opening the
 * partition at the wrong moment makes the kernel refuse it as busy.
 */
async function whileBusy(change: () => Promise<void>): Promise<void> {
  const { settle } = await import("../../system/udevadm");
  for (let attempt = 1; ; attempt++) {
    try {
      return await change();
    } catch (e) {
      if (attempt >= 20) throw e;
      await settle();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** udev's escaping of a label in a /dev/disk/by-* link name. */
function udevEncode(label: string): string {
  return [...Buffer.from(label, "utf8")].map((b) => (/[A-Za-z0-9#+\-.:=@_]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`)).join("");
}
