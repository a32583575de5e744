// flint quench: the first-boot flags leave the ESP, on a directory and on a
// real vfat partition of a loop device found by its filesystem label.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run as quenchCommand } from "../../../agent/commands/quench";
import { FlintError } from "../../../agent/errors";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";

const REPO = join(__dirname, "..", "..", "..");

function cmdline(dir: string, text: string): string {
  const file = join(dir, `cmdline-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}

function onFat(device: string, path: string): boolean {
  const result = spawnSync("mdir", ["-b", "-i", device, `::/${path}`], { env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
  return result.status === 0;
}

describe("flint quench", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-quench-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  describe("with --esp DIR", () => {
    it("removes flatcar/first_boot and coreos/first_boot", async () => {
      const esp = join(work, "esp");
      mkdirSync(join(esp, "flatcar"), { recursive: true });
      mkdirSync(join(esp, "coreos"), { recursive: true });
      writeFileSync(join(esp, "flatcar", "first_boot"), "");
      writeFileSync(join(esp, "coreos", "first_boot"), "");
      writeFileSync(join(esp, "flatcar", "grub.cfg"), "keep me");
      const code = await quenchCommand(["quench", "--esp", esp, "--cmdline-file", cmdline(work, "flatcar.first_boot=detected")]);
      assert.equal(code, 0);
      assert.equal(existsSync(join(esp, "flatcar", "first_boot")), false);
      assert.equal(existsSync(join(esp, "coreos", "first_boot")), false);
      assert.equal(existsSync(join(esp, "flatcar", "grub.cfg")), true);
    });

    it("fails when the boot loader detected a first boot but no flag file exists", async () => {
      const esp = join(work, "esp");
      mkdirSync(esp);
      await assert.rejects(
        quenchCommand(["quench", "--esp", esp, "--cmdline-file", cmdline(work, "flatcar.first_boot=detected")]),
        (e: unknown) => e instanceof FlintError && /neither flatcar\/first_boot nor coreos\/first_boot exists/.test(e.message),
      );
    });

    it("succeeds without a flag file when the first boot was forced (first_boot=1)", async () => {
      const esp = join(work, "esp");
      mkdirSync(esp);
      assert.equal(await quenchCommand(["quench", "--esp", esp, "--cmdline-file", cmdline(work, "flatcar.first_boot=1")]), 0);
    });

    it("exits 1 with the reason on stderr when run as a command", () => {
      const esp = join(work, "esp");
      mkdirSync(esp);
      const result = spawnSync(process.execPath, ["--import", "tsx", join(REPO, "agent", "main.ts"), "quench", "--esp", esp, "--cmdline-file", cmdline(work, "coreos.first_boot=detected")], { encoding: "utf8", cwd: REPO });
      assert.equal(result.status, 1);
      assert.match(result.stderr, /refusing to continue/);
    });
  });

  describe("on a vfat partition found by its label", () => {
    // A label of its own: concurrent runs (and other tests' images) may carry
    // EFI-SYSTEM too, and the search refuses to choose between two ESPs.
    const label = `ESP${process.pid % 100000000}`;
    let disk: LoopDisk;
    let esp: string;
    beforeEach(() => {
      disk = createLoopDisk(48, "flint-quench-esp-");
      sh("sgdisk", ["-o", "-n", "1:2048:+40M", "-t", "1:EF00", "-c", "1:EFI-SYSTEM", disk.device]);
      disk.rescan();
      esp = disk.partition(1);
      sh("mkfs.vfat", ["-n", label, esp]);
      sh("mmd", ["-i", esp, "::/flatcar"]);
      const flag = join(work, "first_boot");
      writeFileSync(flag, "");
      sh("mcopy", ["-i", esp, flag, "::/flatcar/first_boot"]);
      sh("mcopy", ["-i", esp, flag, "::/flatcar/keep"]);
    });
    afterEach(() => disk?.destroy());

    it("finds the partition by its label and removes the flag (with mtools when installed, else mounting it)", async () => {
      assert.equal(onFat(esp, "flatcar/first_boot"), true);
      const code = await quenchCommand(["quench", "--esp-label", label, "--cmdline-file", cmdline(work, "flatcar.first_boot=detected")]);
      assert.equal(code, 0);
      assert.equal(onFat(esp, "flatcar/first_boot"), false);
      assert.equal(onFat(esp, "flatcar/keep"), true);
    });

    it("removes both flags in one go when both are there, and nothing else", async () => {
      sh("mmd", ["-i", esp, "::/coreos"]);
      const flag = join(work, "first_boot");
      sh("mcopy", ["-i", esp, flag, "::/coreos/first_boot"]);
      assert.equal(await quenchCommand(["quench", "--esp-device", esp, "--cmdline-file", cmdline(work, "flatcar.first_boot=detected")]), 0);
      assert.deepEqual([onFat(esp, "flatcar/first_boot"), onFat(esp, "coreos/first_boot"), onFat(esp, "flatcar/keep")], [false, false, true]);
    });

    it("falls back to mounting when mtools cannot read the device, and fails with the mount's complaint on one that holds no FAT filesystem", async () => {
      const other = join(work, "not-fat.img");
      writeFileSync(other, Buffer.alloc(1 << 20));
      await assert.rejects(
        quenchCommand(["quench", "--esp-device", other, "--cmdline-file", cmdline(work, "flatcar.first_boot=detected")]),
        (e: unknown) => e instanceof FlintError && /mount/.test(`${e.message} ${e.where}`),
      );
      assert.ok(readFileSync(other).equals(Buffer.alloc(1 << 20)), "the image changed");
    });

    it("fails on a second run of a detected first boot, the flag being gone", async () => {
      await quenchCommand(["quench", "--esp-device", esp, "--cmdline-file", cmdline(work, "flatcar.first_boot=detected")]);
      await assert.rejects(
        quenchCommand(["quench", "--esp-device", esp, "--cmdline-file", cmdline(work, "flatcar.first_boot=detected")]),
        (e: unknown) => e instanceof FlintError && /refusing to continue/.test(e.message) && e.where!.includes(esp),
      );
    });
  });
});
