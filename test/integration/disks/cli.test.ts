// The disks stage through the command line, as a user runs it outside an
// initramfs: `flint apply --stages disks`, and the exit status of a bad plan.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLoopDisk, type LoopDisk } from "../../helpers/loop";
import { blkid, printTable, readTable } from "./helpers";

const REPO = join(__dirname, "..", "..", "..");

function flint(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", join(REPO, "agent", "main.ts"), ...args], { encoding: "utf8", cwd: REPO });
}

describe("flint apply --stages disks", () => {
  let disk: LoopDisk;
  let work: string;
  beforeEach(() => {
    disk = createLoopDisk(64, "flint-disks-cli-");
    work = mkdtempSync(join(tmpdir(), "flint-disks-cli-work-"));
    mkdirSync(join(work, "root"));
  });
  afterEach(() => {
    disk?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  function config(storage: object): string {
    const file = join(work, `config-${Math.random().toString(36).slice(2)}.ign`);
    writeFileSync(file, JSON.stringify({ ignition: { version: "3.4.0" }, storage }));
    return file;
  }

  it("partitions and formats a disk and exits 0", () => {
    const file = config({
      disks: [{ device: disk.device, partitions: [{ number: 1, label: "DATA", sizeMiB: 16 }] }],
      filesystems: [{ device: disk.partition(1), format: "ext4", label: "data" }],
    });
    const result = flint(["apply", "--config", file, "--root", join(work, "root"), "--stages", "disks"]);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(readTable(disk.device).partitions.map((p) => p.label), ["DATA"]);
    assert.equal(blkid(disk.partition(1)).LABEL, "data");
  });

  it("exits 1 naming the config path when the plan cannot work, and leaves the disk alone", () => {
    const ok = flint(["apply", "--config", config({ disks: [{ device: disk.device, partitions: [{ number: 1, label: "A", sizeMiB: 16 }] }] }), "--root", join(work, "root"), "--stages", "disks"]);
    assert.equal(ok.status, 0, ok.stderr);
    const before = printTable(disk.device);
    const result = flint(["apply", "--config", config({ disks: [{ device: disk.device, partitions: [{ number: 2, sizeMiB: 4096 }] }] }), "--root", join(work, "root"), "--stages", "disks"]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /storage\.disks\.0\.partitions\.0 \(line 1, column \d+\), disk \/dev\/\S+ partition 2: does not fit/);
    assert.equal(printTable(disk.device), before);
  });
});
