// The disks stage's partitioning on real loop devices with sgdisk, checked
// back with sfdisk/sgdisk: layouts, re-runs, resize, deletion, number 0,
// mismatches, and bad input that must leave the disk untouched.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { FlintError } from "../../../agent/errors";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { MiB, printTable, readTable, runStage, storageConfig } from "./helpers";

const LINUX = "0fc63daf-8483-4772-8e79-3d69d8477de4";
const ESP = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";

function rejectsWith(pattern: RegExp, where?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof FlintError, `expected a FlintError, got ${String(e)}`);
    assert.match(e.message, pattern);
    if (where) assert.match(e.where ?? "", where);
    return true;
  };
}

describe("disks stage: partitions", () => {
  let disk: LoopDisk;
  beforeEach(() => {
    disk = createLoopDisk(256, "flint-disks-");
  });
  afterEach(() => disk?.destroy());

  const layout = () =>
    storageConfig({
      disks: [
        {
          device: disk.device,
          partitions: [
            { number: 1, label: "EFI-SYSTEM", sizeMiB: 32, typeGuid: ESP },
            { number: 2, label: "OEM", startMiB: 40, sizeMiB: 16 },
            { number: 3, label: "ROOT", guid: "11111111-2222-3333-4444-555555555555" },
          ],
        },
      ],
    });

  it("gives a blank disk a multi-partition layout with the requested labels, types, starts and sizes", async () => {
    await runStage(layout());
    const table = readTable(disk.device);
    assert.deepEqual(
      table.partitions.map((p) => [p.number, p.label, p.start, p.size, p.type]),
      [
        [1, "EFI-SYSTEM", 1 * MiB, 32 * MiB, ESP],
        [2, "OEM", 40 * MiB, 16 * MiB, LINUX],
        // No start: the largest free block, which is after OEM; no size: all of it.
        [3, "ROOT", 56 * MiB, table.partitions[2]!.size, LINUX],
      ],
    );
    assert.equal(table.partitions[2]!.guid, "11111111-2222-3333-4444-555555555555");
    assert.ok(table.partitions[2]!.start + table.partitions[2]!.size > 255 * MiB, "ROOT fills the rest of the disk");
    assert.match(sh("sgdisk", ["-p", disk.device]), /EFI-SYSTEM[\s\S]*OEM[\s\S]*ROOT/);
    for (const n of [1, 2, 3]) assert.ok(sh("lsblk", ["-n", "-o", "NAME", disk.partition(n)]).includes(`p${n}`), `partition node ${n} exists`);
  });

  it("changes nothing when the same config runs again (same GUIDs, same data)", async () => {
    await runStage(layout());
    sh("dd", ["if=/dev/urandom", `of=${disk.partition(2)}`, "bs=64k", "count=4", "status=none"]);
    const data = sh("sha256sum", [disk.partition(2)]).split(" ")[0];
    const before = readTable(disk.device);
    const actions = await runStage(layout());
    assert.deepEqual(actions.filter((a) => a.kind === "partition"), []);
    assert.deepEqual(readTable(disk.device), before);
    assert.equal(sh("sha256sum", [disk.partition(2)]).split(" ")[0], data);
  });

  it("grows the last partition with resize after the disk grew, keeping its GUID and data", async () => {
    const config = (resize: boolean) =>
      storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 64 }, { number: 2, label: "B", sizeMiB: 0, resize }] }] });
    await runStage(config(true));
    sh("mkfs.ext4", ["-q", "-F", "-L", "grow", disk.partition(2)]);
    const before = readTable(disk.device).partitions[1]!;
    disk.grow(384);
    await runStage(config(true));
    const after = readTable(disk.device).partitions[1]!;
    assert.equal(after.start, before.start);
    assert.equal(after.guid, before.guid);
    assert.equal(after.label, "B");
    assert.ok(after.size > before.size + 100 * MiB, `grew from ${before.size} to ${after.size} sectors`);
    assert.equal(sh("blkid", ["-p", "-s", "LABEL", "-o", "value", disk.partition(2)]).trim(), "grow");
  });

  it("refuses to change a partition's size without resize, naming sizeMiB", async () => {
    await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 64 }] }] }));
    const before = printTable(disk.device);
    await assert.rejects(
      runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 100 }] }] })),
      rejectsWith(/partition 1 does not match: sizeMiB differs \(config 100 MiB, disk 64 MiB\)/, /storage\.disks\.0\.partitions\.0\.sizeMiB/),
    );
    assert.equal(printTable(disk.device), before);
  });

  it("names the label when an existing partition's label differs", async () => {
    await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 64 }] }] }));
    await assert.rejects(
      runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "B" }] }] })),
      rejectsWith(/label differs \(config "B", disk "A"\)/, /partitions\.0\.label/),
    );
  });

  it("recreates a mismatching partition when wipePartitionEntry is set", async () => {
    await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 64 }] }] }));
    await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "B", sizeMiB: 32, wipePartitionEntry: true }] }] }));
    const [p] = readTable(disk.device).partitions;
    assert.equal(p!.label, "B");
    assert.equal(p!.size, 32 * MiB);
  });

  describe("shouldExist: false", () => {
    beforeEach(async () => {
      await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "KEEP", sizeMiB: 32 }, { number: 2, label: "GONE", sizeMiB: 32 }] }] }));
    });

    it("deletes the partition when wipePartitionEntry is set, leaving the others", async () => {
      await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 2, shouldExist: false, wipePartitionEntry: true }] }] }));
      assert.deepEqual(readTable(disk.device).partitions.map((p) => p.label), ["KEEP"]);
      // Whole names: on /dev/loop2, "loop2" itself contains "p2".
      const names = sh("lsblk", ["-n", "-r", "-o", "NAME", disk.device]).split("\n").filter(Boolean);
      assert.deepEqual(names, [basename(disk.device), `${basename(disk.device)}p1`], "the kernel dropped partition 2");
    });

    it("fails without wipePartitionEntry and leaves the table as it was", async () => {
      const before = printTable(disk.device);
      await assert.rejects(
        runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 2, shouldExist: false }] }] })),
        rejectsWith(/partition 2 exists but shouldExist is false and wipePartitionEntry is not set/, /partitions\.0/),
      );
      assert.equal(printTable(disk.device), before);
    });

    it("does nothing for a partition that does not exist", async () => {
      const before = printTable(disk.device);
      await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 5, shouldExist: false }] }] }));
      assert.equal(printTable(disk.device), before);
    });
  });

  it("gives number 0 the next free number, after the numbered partitions", async () => {
    await runStage(
      storageConfig({ disks: [{ device: disk.device, partitions: [{ label: "FIRST-FREE", sizeMiB: 16 }, { number: 1, label: "ONE", sizeMiB: 16 }, { number: 3, label: "THREE", sizeMiB: 16 }] }] }),
    );
    const byNumber = Object.fromEntries(readTable(disk.device).partitions.map((p) => [p.number, p.label]));
    assert.deepEqual(byNumber, { 1: "ONE", 2: "FIRST-FREE", 3: "THREE" });
  });

  it("replaces every partition with wipeTable", async () => {
    await runStage(layout());
    await runStage(storageConfig({ disks: [{ device: disk.device, wipeTable: true, partitions: [{ number: 1, label: "ONLY", sizeMiB: 8 }] }] }));
    assert.deepEqual(readTable(disk.device).partitions.map((p) => [p.number, p.label]), [[1, "ONLY"]]);
    assert.equal(sh("lsblk", ["-n", "-o", "NAME", disk.device]).includes("p3"), false);
  });

  it("only records what it would do with dryRun, even for devices its own plan would create", async () => {
    const config = layout();
    config.storage!.filesystems = [{ device: disk.partition(3), format: "ext4", label: "root" }];
    config.storage!.luks = [{ name: "plan-only", device: disk.partition(2) }];
    const actions = await runStage(config, { dryRun: true });
    assert.deepEqual(
      actions.map((a) => [a.kind, a.target, a.detail?.replace(/ start=.*/, "")]),
      [
        ["partition", disk.partition(1), "create"],
        ["partition", disk.partition(2), "create"],
        ["partition", disk.partition(3), "create"],
        ["luks", "/dev/mapper/plan-only", `format ${disk.partition(2)} (device not present yet)`],
        ["luks-key", "/etc/luks/plan-only", undefined],
        ["mkfs", disk.partition(3), "create ext4 (device not present yet)"],
      ],
    );
    assert.throws(() => readTable(disk.device), /does not contain a recognized partition table/);
  });

  it("refuses to change a mounted partition, and to wipe the table under it", async () => {
    await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 32 }, { number: 2, label: "B", sizeMiB: 32 }] }] }));
    sh("mkfs.ext4", ["-q", "-F", disk.partition(2)]);
    const mnt = mkdtempSync(join(tmpdir(), "flint-disks-mnt-"));
    sh("mount", [disk.partition(2), mnt]);
    try {
      const before = printTable(disk.device);
      await assert.rejects(
        runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 2, label: "C", wipePartitionEntry: true }] }] })),
        rejectsWith(/refusing to change partition 2 of \/dev\/loop\d+: it is mounted or in use/),
      );
      await assert.rejects(runStage(storageConfig({ disks: [{ device: disk.device, wipeTable: true, partitions: [] }] })), rejectsWith(/refusing to wipe the table/));
      assert.equal(printTable(disk.device), before);
      // A partition that is not in use can still change.
      await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 3, label: "NEW", sizeMiB: 8 }] }] }));
      assert.match(printTable(disk.device), /NEW/);
    } finally {
      sh("umount", [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  describe("bad input leaves the disk untouched", () => {
    let before: string;
    beforeEach(async () => {
      await runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 32 }] }] }));
      before = printTable(disk.device);
    });

    it("rejects a partition that does not fit", async () => {
      await assert.rejects(
        runStage(storageConfig({ disks: [{ device: disk.device, partitions: [{ number: 2, label: "HUGE", sizeMiB: 1024 }] }] })),
        rejectsWith(/does not fit: needs 1024 MiB from sector \d+, but only \d+ (MiB|sectors) are free there/, /partitions\.0/),
      );
      assert.equal(printTable(disk.device), before);
    });

    it("rejects a second disk's bad plan before changing the first disk", async () => {
      await assert.rejects(
        runStage(
          storageConfig({
            disks: [
              { device: disk.device, partitions: [{ number: 2, label: "B", sizeMiB: 8 }] },
              { device: disk.device, partitions: [] },
            ],
          }),
        ),
        // Caught by device identity before any plan is made.
        rejectsWith(/and storage\.disks\.0\.device \(disk \/dev\/loop\d+\) are the same device .*one disk cannot have two partition layouts/, /^storage\.disks\.1\.device$/),
      );
      assert.equal(printTable(disk.device), before);
    });

    it("names a device that never appears, after a bounded wait", async () => {
      const saved = process.env.FLINT_DEVICE_TIMEOUT;
      process.env.FLINT_DEVICE_TIMEOUT = "1";
      try {
        await assert.rejects(
          runStage(storageConfig({ disks: [{ device: "/dev/disk/by-id/flint-test-missing", partitions: [{ number: 1 }] }, { device: disk.device, partitions: [{ number: 2, sizeMiB: 8 }] }] })),
          rejectsWith(/^\/dev\/disk\/by-id\/flint-test-missing: device did not appear within 1 s$/, /^storage\.disks\.0\.device$/),
        );
      } finally {
        if (saved === undefined) delete process.env.FLINT_DEVICE_TIMEOUT;
        else process.env.FLINT_DEVICE_TIMEOUT = saved;
      }
      assert.equal(printTable(disk.device), before);
    });
  });
});
