// The partition planner on its own: Ignition's start/size/number rules and
// matching, on disk states written out by hand (no devices involved).

import assert from "node:assert/strict";
import type { Disk } from "../../../agent/config/types";
import { FlintError } from "../../../agent/errors";
import { planPartitions, type DiskState, type ExistingPartition } from "../../../agent/stages/disks/partition-plan";

const MiB = 2048;
const TOTAL = 1024 * MiB; // a 1 GiB disk of 512-byte sectors
const LINUX = "0fc63daf-8483-4772-8e79-3d69d8477de4";

function part(number: number, startMiB: number, sizeMiB: number, label = "", guid = `00000000-0000-4000-8000-00000000000${number}`): ExistingPartition {
  return { number, start: startMiB * MiB, size: sizeMiB * MiB, typeGuid: LINUX, guid, label };
}

function state(partitions: ExistingPartition[] | undefined): DiskState {
  return { sectorSize: 512, totalSectors: TOTAL, table: partitions && { kind: "gpt", firstUsable: 34, lastUsable: TOTAL - 34, partitions } };
}

const plan = (disk: Omit<Disk, "device">, s: DiskState) => planPartitions({ device: "/dev/vdb", ...disk }, s, "storage.disks.0");

function fails(fn: () => unknown, message: RegExp, where?: string) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof FlintError);
    assert.match(e.message, message);
    if (where) assert.equal(e.where, where);
    return true;
  });
}

describe("partition plan", () => {
  it("places start 0 at the largest free block, not the first one that fits", () => {
    // Free: 1–9 MiB (small), 100 MiB onwards (large).
    const p = plan({ partitions: [{ number: 3, sizeMiB: 4, startMiB: 0 }] }, state([part(1, 10, 90)]));
    assert.deepEqual(p.ops, [{ op: "create", number: 3, start: 100 * MiB, end: 104 * MiB - 1, label: undefined, typeGuid: undefined, guid: undefined }]);
  });

  it("fails a size-0 partition that starts in a smaller free block, as sgdisk (and so Ignition) fails, naming the partition and the blocks", () => {
    // Free: 1–9 MiB (small), 100 MiB onwards (large); sgdisk would end it at the large block's end.
    fails(() => plan({ partitions: [{ number: 2, startMiB: 1, sizeMiB: 0 }] }, state([part(1, 10, 90)])), /sizeMiB 0 fills the largest free block \(sectors 204800–2097118\), but the start sector 2048 lies in a smaller free block \(sectors 34–20479\)/, "storage.disks.0.partitions.0");
  });

  it("fills the largest free block with size 0 from a start inside it", () => {
    const p = plan({ partitions: [{ number: 2, startMiB: 200, sizeMiB: 0 }] }, state([part(1, 10, 90)]));
    assert.deepEqual(p.actions, [{ kind: "create", number: 2, start: 200 * MiB, size: TOTAL - 34 - 200 * MiB + 1, label: undefined }]);
  });

  it("gives a blank disk its first partition at 1 MiB", () => {
    const p = plan({ partitions: [{ number: 1, label: "ROOT" }] }, state(undefined));
    const [create] = p.actions;
    assert.deepEqual(create, { kind: "create", number: 1, start: MiB, size: TOTAL - 34 - MiB + 1, label: "ROOT" });
  });

  it("keeps a partition whose unset start and size take the existing values", () => {
    const p = plan({ partitions: [{ number: 1, label: "A" }] }, state([part(1, 1, 64, "A")]));
    assert.deepEqual(p.ops, []);
    assert.deepEqual(p.actions, [{ kind: "keep", number: 1 }]);
  });

  it("compares GUIDs and type GUIDs without regard to case, and ignores empty ones", () => {
    const existing = part(1, 1, 64, "A", "aaaaaaaa-0000-4000-8000-000000000001");
    const p = plan({ partitions: [{ number: 1, guid: "AAAAAAAA-0000-4000-8000-000000000001", typeGuid: "" }] }, state([existing]));
    assert.deepEqual(p.actions, [{ kind: "keep", number: 1 }]);
  });

  it("names the first differing field in Ignition's order: start, size, guid, type, label", () => {
    const s = state([part(1, 1, 64, "A")]);
    fails(() => plan({ partitions: [{ number: 1, startMiB: 2, sizeMiB: 10, label: "B" }] }, s), /startMiB differs \(config 2 MiB, disk 1 MiB\)/, "storage.disks.0.partitions.0.startMiB");
    fails(() => plan({ partitions: [{ number: 1, typeGuid: "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", label: "B" }] }, s), /typeGuid differs/);
  });

  it("resizes in place, keeping identity, when only the size differs and resize is set", () => {
    const p = plan({ partitions: [{ number: 1, sizeMiB: 128, resize: true }] }, state([part(1, 1, 64, "A")]));
    assert.deepEqual(p.ops, [
      { op: "delete", number: 1 },
      { op: "create", number: 1, start: MiB, end: 129 * MiB - 1, label: "A", typeGuid: LINUX, guid: "00000000-0000-4000-8000-000000000001" },
    ]);
  });

  it("does not resize when something besides the size differs", () => {
    fails(() => plan({ partitions: [{ number: 1, sizeMiB: 128, label: "B", resize: true }] }, state([part(1, 1, 64, "A")])), /sizeMiB differs \(config 128 MiB, disk 64 MiB\); set wipePartitionEntry to recreate it$/);
  });

  it("puts deletions before creations so a recreated partition can reuse freed space", () => {
    const p = plan(
      { partitions: [{ number: 2, label: "NEW", startMiB: 1, sizeMiB: 32 }, { number: 1, shouldExist: false, wipePartitionEntry: true }] },
      state([part(1, 1, 32, "OLD")]),
    );
    assert.deepEqual(p.ops.map((o) => o.op), ["delete", "create"]);
  });

  it("refuses a start inside an existing partition", () => {
    fails(() => plan({ partitions: [{ number: 2, startMiB: 20, sizeMiB: 8 }] }, state([part(1, 10, 90)])), /start sector 40960 is not free \(it would start inside partition 1\)/);
  });

  it("refuses a partition past the end of the disk", () => {
    fails(() => plan({ partitions: [{ number: 1, startMiB: 2000, sizeMiB: 8 }] }, state([])), /not free \(the usable sectors are 34–/);
  });

  it("refuses an MBR disk unless wipeTable is set", () => {
    const mbr: DiskState = { sectorSize: 512, totalSectors: TOTAL, table: { kind: "dos", firstUsable: 2048, lastUsable: TOTAL - 1, partitions: [] } };
    fails(() => plan({ partitions: [{ number: 1 }] }, mbr), /has a dos partition table, not GPT; set wipeTable/);
    assert.equal(plan({ wipeTable: true, partitions: [{ number: 1 }] }, mbr).ops[0]!.op, "clear");
  });

  it("moves the backup GPT to the end first when the disk grew and something changes", () => {
    const grown: DiskState = { ...state([part(1, 1, 64, "A")]), totalSectors: 2 * TOTAL };
    assert.deepEqual(plan({ partitions: [{ number: 1 }] }, grown).ops, []);
    assert.equal(plan({ partitions: [{ number: 2, sizeMiB: 8 }] }, grown).ops[0]!.op, "move-backup-to-end");
  });
});
