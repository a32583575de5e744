// Issue 10, case 6: one device reached under two names is caught before any
// disk is touched. Devices are compared by major:minor after following
// symlinks; the failure names both config entries and the device. Real loop
// devices, a symlink alias beside the root, `flint apply --stages disks`.

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLoopDisk, type LoopDisk } from "../../helpers/loop";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { blkid, printTable } from "../disks/helpers";
import { buildBundle, FLINT } from "../../helpers/bundle";


const outside = (dir: string) => snapshotTree(dir, { ignore: (rel) => rel === "root" || rel.startsWith("root/") });

function majorMinor(device: string): string {
  const rdev = statSync(device).rdev;
  return `${Math.floor(rdev / 256) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & ~0xff)}`;
}

describe("safety: one device under two names", function () {
  this.timeout(120_000);
  const t = useTempRoot();
  let disk: LoopDisk;
  let alias: string;

  before(buildBundle);
  beforeEach(() => {
    disk = createLoopDisk(64, "flint-safety-tools-ident-");
    alias = join(t.dir, "alias");
    symlinkSync(disk.device, alias);
  });
  afterEach(() => disk.destroy());

  /** Applies the storage section with the disks stage; returns the exit code and stderr. */
  function apply(storage: object): { code: number | null; stderr: string } {
    const config = join(t.dir, "config.json");
    writeFileSync(config, JSON.stringify({ ignition: { version: "3.4.0" }, storage }));
    const before = outside(t.dir);
    const r = spawnSync(process.execPath, [FLINT, "apply", "--config", config, "--root", t.root, "--stages", "disks"], { cwd: t.dir, encoding: "utf8" });
    assert.deepEqual(outside(t.dir), before, "something beside the root changed");
    assert.doesNotMatch(r.stderr, /\n\s+at /, "a stack trace");
    return { code: r.status, stderr: r.stderr };
  }

  it("refuses two filesystems on the same device, one through a symlink, and formats neither", () => {
    const r = apply({
      filesystems: [
        { device: disk.device, format: "ext4", wipeFilesystem: true },
        { device: alias, format: "vfat", wipeFilesystem: true },
      ],
    });
    assert.equal(r.code, 1, r.stderr);
    const id = majorMinor(disk.device);
    assert.match(r.stderr, new RegExp(`storage\\.filesystems\\.1\\.device \\(filesystem ${alias}\\) and storage\\.filesystems\\.0\\.device \\(filesystem ${disk.device}\\) are the same device ${disk.device} \\(${id}\\)`));
    assert.deepEqual(blkid(disk.device), {});
  });

  it("refuses a whole-disk filesystem, named through an alias, on a disk the config partitions, before writing the table", () => {
    const r = apply({
      disks: [{ device: disk.device, wipeTable: true, partitions: [{ label: "data", sizeMiB: 16 }] }],
      filesystems: [{ device: alias, format: "ext4", wipeFilesystem: true }],
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /storage\.filesystems\.0\.device \(filesystem .*alias\) and storage\.disks\.0\.device \(disk \/dev\/loop\d+\) are the same device .*would destroy the partitions/);
    assert.deepEqual(blkid(disk.device), {}, "a partition table or filesystem was written");
  });

  it("refuses a RAID member that is also the LUKS device", () => {
    const second = createLoopDisk(64, "flint-safety-tools-ident-");
    try {
      const r = apply({ raid: [{ name: "flint-safety-tools", level: "raid1", devices: [alias, second.device] }], luks: [{ name: "flint-safety-tools", device: disk.device }] });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /storage\.luks\.0\.device \(LUKS device \/dev\/loop\d+\) and storage\.raid\.0\.devices\.0 \(raid member .*alias\) are the same device/);
      assert.deepEqual(blkid(disk.device), {});
      assert.deepEqual(blkid(second.device), {});
    } finally {
      second.destroy();
    }
  });

  it("refuses a whole-disk filesystem when another entry uses one of the disk's partitions", () => {
    execFileSync("sgdisk", ["--new=1:2048:34815", disk.device], { stdio: "ignore" });
    disk.rescan();
    const table = printTable(disk.device);
    const r = apply({
      filesystems: [
        { device: disk.partition(1), format: "ext4", wipeFilesystem: true },
        { device: alias, format: "ext4", wipeFilesystem: true },
      ],
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /storage\.filesystems\.1\.device \(filesystem .*alias\) is the whole disk \/dev\/loop\d+ \(\d+:\d+\), and storage\.filesystems\.0\.device \(filesystem \/dev\/loop\d+p1\) is its partition/);
    assert.equal(printTable(disk.device), table);
    assert.equal(blkid(disk.partition(1)).TYPE, undefined, "the partition was formatted");
  });

  it("still lets a bare disk entry (wipeTable) make room for one whole-disk filesystem through an alias", () => {
    const r = apply({ disks: [{ device: disk.device, wipeTable: true }], filesystems: [{ device: alias, format: "ext4", wipeFilesystem: true, label: "whole" }] });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(blkid(disk.device).LABEL, "whole");
  });
});
