// The machine dump shown on a failed boot with flint.log=debug: it reads
// each disk's partition table itself (the initramfs has no fdisk), so check
// it against tables sgdisk wrote, with 512- and 4096-byte sectors; check
// that a real loop disk shows up with its table, that the name servers come
// from the paths it is given, and that a dump never throws.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockDeviceLines, dumpMachine, networkLines, readPartitionTable } from "../../../agent/console/machine-dump";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";

describe("the machine dump (agent/console/machine-dump.ts)", function () {
  this.timeout(60_000);
  let work: string;
  let loops: string[] = [];
  let disk: LoopDisk | undefined;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-structure-dump-"));
  });
  afterEach(() => {
    for (const loop of loops.splice(0)) execFileSync("losetup", ["-d", loop]);
    disk?.destroy();
    disk = undefined;
    rmSync(work, { recursive: true, force: true });
  });

  const FLATCAR_LIKE = ["-o", "-U", "00000000-0000-0000-0000-000000000001", "-n", "1:0:+64M", "-t", "1:EF00", "-c", "1:EFI-SYSTEM", "-n", "9:0:0", "-c", "9:ROOT"];

  function flatcarLikeImage(): string {
    const image = join(work, "disk.img");
    execFileSync("truncate", ["-s", "200M", image]);
    execFileSync("sgdisk", [...FLATCAR_LIKE, image], { stdio: "ignore" });
    return image;
  }

  it("reads the disk GUID and each partition's type, name and extent from a GPT", () => {
    const table = readPartitionTable(flatcarLikeImage());
    assert.ok(table);
    assert.equal(table.summary, "GPT disk GUID 00000000-0000-0000-0000-000000000001, 2 partition(s)");
    assert.match(table.partitions.get(1)!, /^type=EFI system name="EFI-SYSTEM" sectors=2048-133119 guid=[0-9a-f-]{36}$/);
    assert.match(table.partitions.get(9)!, /^type=Linux data name="ROOT" /);
  });

  it("reads a GPT written with 4096-byte sectors", () => {
    const image = join(work, "4k.img");
    execFileSync("truncate", ["-s", "200M", image]);
    const loop = sh("losetup", ["-f", "--show", "--sector-size", "4096", image]).trim();
    loops.push(loop);
    execFileSync("sgdisk", [...FLATCAR_LIKE, loop], { stdio: "ignore" });
    const table = readPartitionTable(image);
    assert.ok(table);
    assert.equal(table.summary, "GPT disk GUID 00000000-0000-0000-0000-000000000001, 2 partition(s) (4096-byte sectors)");
    assert.match(table.partitions.get(1)!, /^type=EFI system name="EFI-SYSTEM" sectors=256-16639 /);
  });

  it("says so when a disk has no partition table", () => {
    const blank = join(work, "blank.img");
    execFileSync("truncate", ["-s", "1M", blank]);
    assert.equal(readPartitionTable(blank)?.summary, "no partition table");
  });

  it("lists a real disk with its size and the partition table read from it", async () => {
    disk = createLoopDisk(200, "flint-structure-dump-loop-");
    execFileSync("sgdisk", [...FLATCAR_LIKE, disk.device], { stdio: "ignore" });
    const name = disk.device.replace("/dev/", "");
    const lines = await blockDeviceLines({ sys: "/sys", proc: "/proc", dev: "/dev", etc: work });
    const at = lines.findIndex((l) => l.startsWith(`${name}: loop 200 MiB`));
    assert.ok(at >= 0, lines.join("\n"));
    assert.equal(lines[at + 1], "  GPT disk GUID 00000000-0000-0000-0000-000000000001, 2 partition(s)");
    assert.match(lines[at + 2]!, /^ {2}#1 type=EFI system name="EFI-SYSTEM" /);
  });

  it("takes the name servers from the paths it is given, not from the host", async () => {
    mkdirSync(join(work, "etc"));
    writeFileSync(join(work, "etc", "resolv.conf"), "# test\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n");
    const lines = await networkLines({ sys: "/sys", proc: join(work, "proc"), dev: "/dev", etc: join(work, "etc") });
    assert.equal(lines.filter((l) => l.startsWith("nameservers:")).join(), "nameservers: 192.0.2.53 192.0.2.54");
    assert.ok(lines.some((l) => /^lo: .*127\.0\.0\.1\/255\.0\.0\.0/.test(l)), lines.join("\n"));
  });

  it("dumps something for every section and never throws, even with nothing to read", async () => {
    const lines: string[] = [];
    const empty = join(work, "nothing");
    await dumpMachine((l) => lines.push(l), { sys: empty, proc: empty, dev: empty, etc: empty });
    for (const section of ["[platform]", "[block devices]", "[mounts]", "[network]"]) assert.ok(lines.includes(section), section);
    assert.ok(lines.some((l) => l.startsWith("  system: ")));
    assert.ok(lines.includes("  nothing mounted"));
  });
});
