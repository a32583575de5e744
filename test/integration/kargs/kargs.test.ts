// The kargs stage on a real OEM partition (btrfs, as Flatcar has it, and ext4,
// as older images have it) on a loop device: grub.cfg gets Flatcar's
// linux_append lines, idempotently, and the reboot marker appears only when
// this run changed the file and the running command line lacks an argument.

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { buildBundle, FLINT } from "../../helpers/bundle";

const GRUB = 'set linux_console="console=ttyS0,115200n8"\nset linux_append="$linux_append flatcar.autologin"\n';
const KARGS = { shouldExist: ["example", "foo=bar"], shouldNotExist: ["flatcar.autologin"] };

function flint(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [FLINT, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const format of ["btrfs", "ext4"] as const) {
  describe(`kargs stage on a ${format} OEM partition`, function () {
    this.timeout(120_000);
    let disk: LoopDisk;
    let work: string;
    let partition: string;

    before(buildBundle);

    beforeEach(() => {
      work = mkdtempSync(join(tmpdir(), "flint-compat-kargs-"));
      disk = createLoopDisk(256, "flint-compat-kargs-disk-");
      sh("sgdisk", ["-n", "1:0:+200M", "-c", "1:OEM", disk.device]);
      disk.rescan();
      partition = disk.partition(1);
      sh(format === "btrfs" ? "mkfs.btrfs" : "mkfs.ext4", format === "btrfs" ? ["-q", "-f", "-L", "OEM", partition] : ["-q", "-F", "-L", "OEM", partition]);
      onOem((dir) => writeFileSync(join(dir, "grub.cfg"), GRUB));
    });

    afterEach(() => {
      spawnSync("umount", [join(work, "look")]);
      disk.destroy();
      rmSync(work, { recursive: true, force: true });
    });

    function onOem<T>(look: (dir: string) => T): T {
      const dir = join(work, "look");
      mkdirSync(dir, { recursive: true });
      execFileSync("mount", [partition, dir]);
      try {
        return look(dir);
      } finally {
        execFileSync("umount", [dir]);
      }
    }

    /** One boot's kargs stage: a fresh run directory (as /run is on each boot) with the cached config. */
    function boot(cmdline: string, kargs: object = KARGS): { code: number | null; stderr: string; reboot: boolean; runDir: string } {
      const runDir = mkdtempSync(join(work, "run-"));
      writeFileSync(join(runDir, "config.json"), JSON.stringify({ ignition: { version: "3.4.0" }, kernelArguments: kargs }), { mode: 0o600 });
      writeFileSync(join(runDir, "cmdline"), cmdline + "\n");
      const root = join(work, "root");
      mkdirSync(join(root, "etc"), { recursive: true });
      const r = flint(["kargs", "--root", root, "--cache", join(runDir, "config.json"), "--oem-device", partition, "--cmdline-file", join(runDir, "cmdline")]);
      return { code: r.code, stderr: r.stderr, reboot: existsSync(join(runDir, "kargs-reboot")), runDir };
    }

    it("writes the linux_append lines, asks for a reboot, and on the next boot changes nothing and does not", () => {
      const first = boot("root=LABEL=ROOT flatcar.autologin console=ttyS0");
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.reboot, true, "a reboot is needed: the running command line lacks example and foo=bar");
      const written = onOem((dir) => readFileSync(join(dir, "grub.cfg"), "utf8"));
      assert.equal(written, 'set linux_console="console=ttyS0,115200n8"\nset linux_append="$linux_append example"\nset linux_append="$linux_append foo=bar"\n');
      assert.match(first.stderr, /karg-add example/);
      assert.match(first.stderr, /karg-remove flatcar\.autologin/);
      assert.doesNotMatch(onOem((dir) => execFileSync("ls", ["-a", dir], { encoding: "utf8" })), /flint-tmp/);

      // The next boot: GRUB passed the new arguments.
      const second = boot("root=LABEL=ROOT console=ttyS0 example foo=bar");
      assert.equal(second.code, 0, second.stderr);
      assert.equal(second.reboot, false);
      assert.equal(onOem((dir) => readFileSync(join(dir, "grub.cfg"), "utf8")), written);
    });

    it("does not reboot again when the file is already right but the command line lacks an argument (a loader without GRUB cannot loop)", () => {
      assert.equal(boot("root=LABEL=ROOT").reboot, true);
      const again = boot("root=LABEL=ROOT");
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.reboot, false);
    });

    it("does not reboot when the running command line already has what is asked, though the file is brought in line", () => {
      const r = boot("root=LABEL=ROOT example foo=bar");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.reboot, false);
      assert.match(onOem((dir) => readFileSync(join(dir, "grub.cfg"), "utf8")), /\$linux_append example"/);
    });
  });
}

describe("kernelArguments outside the kargs stage", function () {
  this.timeout(60_000);
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-compat-kargs-apply-"));
    mkdirSync(join(work, "root/etc"), { recursive: true });
    writeFileSync(join(work, "config.ign"), JSON.stringify({ ignition: { version: "3.4.0" }, kernelArguments: { shouldExist: ["flint.test.missing=1"] }, storage: { files: [{ path: "/etc/x", contents: { source: "data:,x" } }] } }));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  it("apply --stages files never fails over kernel arguments", () => {
    const r = flint(["apply", "--config", join(work, "config.ign"), "--root", join(work, "root"), "--stages", "files"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(work, "root/etc/x"), "utf8"), "x");
  });

  it("plan shows the kargs change and touches nothing", () => {
    writeFileSync(join(work, "cmdline"), "root=/dev/sda\n");
    const r = flint(["plan", "--config", join(work, "config.ign"), "--root", join(work, "root"), "--cmdline-file", join(work, "cmdline")]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^karg-add flint\.test\.missing=1 in grub\.cfg on the partition labelled OEM, then a reboot$/m);
    assert.equal(existsSync(join(work, "root/etc/x")), false);
  });
});
