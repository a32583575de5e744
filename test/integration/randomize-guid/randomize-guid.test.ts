// flint randomize-guid on a loop image made with Flatcar's placeholder disk
// GUID: a new random GUID, every partition and its data kept, the backup GPT
// moved to the end of the grown disk, and nothing to do the second time.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run as randomizeCommand } from "../../../agent/commands/randomize-guid";
import { findDisksWithGuid, PLACEHOLDER_DISK_GUID } from "../../../agent/stages/randomize-guid";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { readTable } from "../disks/helpers";

const REPO = join(__dirname, "..", "..", "..");

describe("flint randomize-guid", () => {
  let disk: LoopDisk;
  let work: string;
  let cmdline: string;
  let dataSum: string;

  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-guid-"));
    cmdline = join(work, "cmdline");
    writeFileSync(cmdline, `console=ttyS0 flatcar.first_boot=detected flatcar.randomize_guid=${PLACEHOLDER_DISK_GUID}\n`);
    disk = createLoopDisk(64, "flint-guid-disk-");
    sh("sgdisk", ["-o", "-U", PLACEHOLDER_DISK_GUID, "-n", "1:2048:+8M", "-t", "1:EF00", "-c", "1:EFI-SYSTEM", "-n", "6:0:+8M", "-c", "6:OEM", "-n", "9:0:0", "-c", "9:ROOT", disk.device]);
    disk.rescan();
    sh("dd", ["if=/dev/urandom", `of=${disk.partition(9)}`, "bs=64k", "count=16", "status=none"]);
    dataSum = sh("sha256sum", [disk.partition(9)]).split(" ")[0]!;
  });
  afterEach(() => {
    disk?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  it("finds the disk by its GUID when scanning every block device, loop devices included", async () => {
    assert.ok((await findDisksWithGuid(PLACEHOLDER_DISK_GUID)).includes(disk.device));
  });

  it("gives the disk a random GUID and keeps every partition and its data", async () => {
    const before = readTable(disk.device);
    assert.equal(before.id, PLACEHOLDER_DISK_GUID);
    assert.equal(await randomizeCommand(["randomize-guid", "--cmdline-file", cmdline, "--device", disk.device]), 0);
    const after = readTable(disk.device);
    assert.notEqual(after.id, PLACEHOLDER_DISK_GUID);
    assert.match(after.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(after.partitions, before.partitions);
    assert.equal(sh("sha256sum", [disk.partition(9)]).split(" ")[0], dataSum);
  });

  it("moves the backup GPT to the end of a disk larger than the image", async () => {
    disk.grow(96);
    await randomizeCommand(["randomize-guid", "--guid", PLACEHOLDER_DISK_GUID, "--device", disk.device]);
    const verify = sh("sgdisk", ["--verify", disk.device]);
    assert.match(verify, /No problems found/);
    const lastUsable = JSON.parse(sh("sfdisk", ["--json", disk.device])).partitiontable.lastlba as number;
    assert.equal(lastUsable, 96 * 2048 - 34);
    assert.notEqual(readTable(disk.device).id, PLACEHOLDER_DISK_GUID, "the GUID changed in the same run");
  });

  it("does nothing on a second run: no disk has the placeholder GUID any more", async () => {
    await randomizeCommand(["randomize-guid", "--cmdline-file", cmdline, "--device", disk.device]);
    const first = readTable(disk.device);
    assert.equal(await randomizeCommand(["randomize-guid", "--cmdline-file", cmdline, "--device", disk.device]), 0);
    assert.deepEqual(readTable(disk.device), first);
  });

  it("exits 0 as a command when no disk has the GUID", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "agent", "main.ts"), "randomize-guid", "--guid", "6d3c3d5e-9f1a-4c1e-9a57-000000000042"], { encoding: "utf8", cwd: REPO });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /nothing to do/);
    assert.equal(readTable(disk.device).id, PLACEHOLDER_DISK_GUID);
  });

  it("exits 0 when the command line asks for nothing", async () => {
    writeFileSync(cmdline, "console=ttyS0\n");
    assert.equal(await randomizeCommand(["randomize-guid", "--cmdline-file", cmdline]), 0);
    assert.equal(readTable(disk.device).id, PLACEHOLDER_DISK_GUID);
  });
});
