// The machine dump shown on a failed boot with flint.log=debug: it reads the
// partition table itself (the initramfs has no fdisk), so check it against a
// table sgdisk wrote, and check that a dump never throws.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockDeviceLines, dumpMachine, readPartitionTable } from "../../../agent/diagnostics";

describe("the machine dump (agent/diagnostics.ts)", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-diagnostics-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  function flatcarLikeImage(): string {
    const image = join(work, "disk.img");
    execFileSync("truncate", ["-s", "200M", image]);
    execFileSync("sgdisk", ["-o", "-U", "00000000-0000-0000-0000-000000000001", "-n", "1:2048:+64M", "-t", "1:EF00", "-c", "1:EFI-SYSTEM", "-n", "9:0:0", "-c", "9:ROOT", image], { stdio: "ignore" });
    return image;
  }

  it("reads the disk GUID and each partition's type, name and extent from a GPT", () => {
    const table = readPartitionTable(flatcarLikeImage());
    assert.ok(table);
    assert.equal(table.summary, "GPT disk GUID 00000000-0000-0000-0000-000000000001, 2 partition(s)");
    assert.match(table.partitions.get(1)!, /^type=EFI system name="EFI-SYSTEM" sectors=2048-133119 guid=[0-9a-f-]{36}$/);
    assert.match(table.partitions.get(9)!, /^type=Linux data name="ROOT" /);
  });

  it("says so when a disk has no partition table", () => {
    const blank = join(work, "blank.img");
    execFileSync("truncate", ["-s", "1M", blank]);
    assert.equal(readPartitionTable(blank)?.summary, "no partition table");
  });

  it("lists disks and partitions with their partition-table entries and udev names", () => {
    // A fake /sys and /dev in the shape the kernel and udev give them.
    const sys = join(work, "sys");
    const dev = join(work, "dev");
    mkdirSync(join(sys, "class", "block", "vda", "vda1"), { recursive: true });
    writeFileSync(join(sys, "class", "block", "vda", "size"), "409600\n");
    writeFileSync(join(sys, "class", "block", "vda", "vda1", "size"), "131072\n");
    writeFileSync(join(sys, "class", "block", "vda", "vda1", "partition"), "1\n");
    mkdirSync(join(sys, "class", "block", "vda1"));
    writeFileSync(join(sys, "class", "block", "vda1", "partition"), "1\n");
    mkdirSync(join(dev, "disk", "by-label"), { recursive: true });
    symlinkSync("../../vda1", join(dev, "disk", "by-label", "EFI-SYSTEM"));
    execFileSync("cp", [flatcarLikeImage(), join(dev, "vda")]);
    const lines = blockDeviceLines({ sys, proc: join(work, "proc"), dev });
    assert.deepEqual(lines.slice(0, 2), ["vda: 200 MiB", "  GPT disk GUID 00000000-0000-0000-0000-000000000001, 2 partition(s)"]);
    assert.match(lines[2]!, /^ {2}vda1: #1 64 MiB type=EFI system name="EFI-SYSTEM" .* \[label=EFI-SYSTEM\]$/);
  });

  it("dumps something for every section and never throws, even with nothing to read", async () => {
    const lines: string[] = [];
    const empty = join(work, "nothing");
    await dumpMachine((l) => lines.push(l), { sys: empty, proc: empty, dev: empty });
    for (const section of ["[platform]", "[block devices]", "[mounts]", "[network]"]) assert.ok(lines.includes(section), section);
    assert.ok(lines.includes("  no block devices"));
  });
});
