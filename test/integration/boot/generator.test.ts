// The initramfs generator is a shell script (it runs on every boot; Node's
// start-up would cost seconds under emulation). It must read the kernel
// command line exactly as agent/boot/cmdline.ts does, and pull in the Flint
// units only on the boots that need them.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCmdline } from "../../../agent/boot/cmdline";

const GENERATOR = join(__dirname, "..", "..", "..", "units", "flint-generator");

interface Generated {
  printed: Record<string, string>;
  unitDir: string;
  runDir: string;
}

describe("the initramfs generator (units/flint-generator)", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-generator-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  function generate(cmdline: string): Generated {
    const file = join(work, "cmdline");
    writeFileSync(file, cmdline + "\n");
    const env = { ...process.env, FLINT_CMDLINE_FILE: file, FLINT_RUN_DIR: join(work, "run"), FLINT_NETWORK_DIR: join(work, "network"), FLINT_SYSFS_ROOT: join(work, "sys") };
    const printed = Object.fromEntries(
      execFileSync("sh", [GENERATOR, "--print"], { env, encoding: "utf8" })
        .trim()
        .split("\n")
        .map((line) => line.split(/=(.*)/s, 2) as [string, string]),
    );
    const unitDir = join(work, "units");
    execFileSync("sh", [GENERATOR, unitDir, join(work, "early"), join(work, "late")], { env });
    return { printed, unitDir, runDir: join(work, "run") };
  }

  const lines = [
    "",
    "root=LABEL=ROOT rw",
    "flatcar.first_boot=detected",
    "flatcar.first_boot=1",
    "flatcar.first_boot=0",
    "flatcar.first_boot=",
    "flatcar.first_boot=no",
    "flatcar.first_boot=OFF",
    "flatcar.first_boot=False",
    "flatcar.first_boot=n",
    "flatcar.first_boot=yes",
    "flatcar.first_boot=DETECTED",
    "ignition.firstboot",
    "coreos.first_boot=detected flatcar.first_boot=0",
    "flatcar.first_boot=0 coreos.first_boot=1",
    "ignition.firstboot flatcar.first_boot=0 ignition.firstboot",
    "flatcar.first_boot=detected -- flatcar.first_boot=0",
    '"flatcar.first_boot=detected"',
    'quiet "foo=a b" flatcar.first_boot=1',
    "flatcar.first_boot=1\tflatcar.oem.id=QEMU",
    "flatcar.randomize_guid=00000000-0000-0000-0000-000000000001",
    "flatcar.randomize_disk_guid=ABCDEF00-0000-0000-0000-000000000001 flatcar.first_boot=detected",
    "coreos.randomize_disk_guid=00000000-0000-0000-0000-000000000002 flatcar.randomize_guid=00000000-0000-0000-0000-000000000001",
    "flatcar.randomize_guid",
    "flatcar.oem.id=qemu coreos.oem.id=ec2",
    "ignition.platform.id=Metal",
    "flint.log=debug flatcar.first_boot=1",
    "flint.log=warn flint.log=info",
  ];

  for (const line of lines) {
    it(`reads ${JSON.stringify(line)} as flint cmdline does`, () => {
      const expected = parseCmdline(line);
      const { printed } = generate(line);
      assert.deepEqual(
        {
          firstBoot: printed.first_boot === "1",
          firstBootDetected: printed.detected === "1",
          randomizeGuid: printed.randomize_guid || undefined,
          platformId: printed.platform_id || undefined,
          logLevel: printed.log_level || undefined,
        },
        {
          firstBoot: expected.firstBoot,
          firstBootDetected: expected.firstBootDetected,
          randomizeGuid: expected.randomizeGuid,
          platformId: expected.platformId,
          logLevel: expected.logLevel,
        },
      );
    });
  }

  const requires = (g: Generated) => (existsSync(join(g.unitDir, "initrd.target.requires")) ? readdirSync(join(g.unitDir, "initrd.target.requires")).sort() : []);

  it("pulls in nothing on an ordinary boot", () => {
    const g = generate("root=LABEL=ROOT rw flatcar.oem.id=qemu");
    assert.deepEqual(existsSync(g.unitDir) ? readdirSync(g.unitDir) : [], []);
    assert.equal(existsSync(g.runDir), false);
  });

  it("makes initrd.target require flint-complete.target on a forced first boot, without quench", () => {
    const g = generate("flatcar.first_boot=1");
    assert.deepEqual(requires(g), ["flint-complete.target"]);
    assert.equal(readlinkSync(join(g.unitDir, "initrd.target.requires", "flint-complete.target")), "/usr/lib/systemd/system/flint-complete.target");
  });

  it("adds quench when GRUB detected the flag, and randomize-guid when asked", () => {
    const g = generate("flatcar.first_boot=detected flatcar.randomize_guid=00000000-0000-0000-0000-000000000001");
    assert.deepEqual(requires(g), ["flint-complete.target", "flint-quench.service", "flint-randomize-guid.service"]);
  });

  it("keeps switch-root (initrd-cleanup.service) from running unless the Flint units succeeded", () => {
    const g = generate("flatcar.first_boot=detected");
    const dropin = readFileSync(join(g.unitDir, "initrd-cleanup.service.d", "10-flint.conf"), "utf8");
    assert.match(dropin, /^Requires=flint-complete\.target flint-quench\.service$/m);
    assert.match(dropin, /^After=flint-complete\.target flint-quench\.service$/m);
  });

  it("makes fetch-offline wait for the OEM partition on a first boot of an image with a /usr partition (mount.usr=), as Flatcar does", () => {
    // One work directory per test: each command line starts from no units.
    const dropin = (g: Generated) => join(g.unitDir, "flint-fetch-offline.service.d", "10-flint-oem.conf");
    const fresh = (line: string) => {
      rmSync(join(work, "units"), { recursive: true, force: true });
      return generate(line);
    };
    for (const line of ["flatcar.first_boot=detected mount.usr=/dev/disk/by-partlabel/USR-A mount.usrflags=ro", "flatcar.first_boot=1 usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132"]) {
      assert.equal(readFileSync(dropin(fresh(line)), "utf8"), "[Unit]\nRequires=dev-disk-by\\x2dlabel-OEM.device\nAfter=dev-disk-by\\x2dlabel-OEM.device\n", line);
    }
    // PXE (the OEM files are in the initramfs), and boots that are not first boots, do not wait.
    assert.equal(existsSync(dropin(fresh("flatcar.first_boot=detected root=LABEL=ROOT"))), false);
    assert.equal(existsSync(dropin(fresh("mount.usr=/dev/disk/by-partlabel/USR-A"))), false);
  });

  it("writes /run/ignition.env (OEM_ID, PLATFORM_ID) on every boot, as Flatcar's initramfs does for the root's units", () => {
    const env = (line: string) => readFileSync(join(generate(line).runDir, "..", "ignition.env"), "utf8");
    assert.equal(env("root=LABEL=ROOT flatcar.oem.id=QEMU"), "OEM_ID=qemu\nPLATFORM_ID=qemu\n");
    assert.equal(env("flatcar.first_boot=1 coreos.oem.id=ec2"), "OEM_ID=aws\nPLATFORM_ID=aws\n");
    assert.equal(env("ignition.platform.id=gce"), "OEM_ID=gcp\nPLATFORM_ID=gcp\n");
    assert.equal(env("flatcar.oem.id=pxe"), "OEM_ID=metal\nPLATFORM_ID=metal\n");
    assert.equal(env("flatcar.oem.id=azure"), "OEM_ID=azure\nPLATFORM_ID=azure\n");
    assert.equal(env(""), "OEM_ID=metal\nPLATFORM_ID=metal\n");
    mkdirSync(join(work, "sys/class/dmi/id"), { recursive: true });
    writeFileSync(join(work, "sys/class/dmi/id/sys_vendor"), "QEMU\n");
    assert.equal(env("flatcar.first_boot=detected"), "OEM_ID=qemu\nPLATFORM_ID=qemu\n");
  });

  it("frees the /usr partition's mount (sysusr-usr.mount) from local-fs-pre.target when Flint runs, which the early stages run before", () => {
    const g = generate("flatcar.first_boot=1 mount.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132");
    const dropin = readFileSync(join(g.unitDir, "sysusr-usr.mount.d", "10-flint.conf"), "utf8");
    assert.match(dropin, /^DefaultDependencies=no$/m);
    assert.match(dropin, /^After=systemd-udevd\.service$/m);
    // Stopping it at switch-root would take the real root's /usr (its bind mount at /sysroot/usr) with it.
    assert.doesNotMatch(dropin, /Conflicts=/);
    // An ordinary boot keeps systemd's own ordering.
    rmSync(g.unitDir, { recursive: true, force: true });
    assert.equal(existsSync(join(generate("mount.usr=PARTUUID=7130c94a-213a-4e5a-8e26-6cce9662f132").unitDir, "sysusr-usr.mount.d")), false);
  });

  it("randomizes the GUID on a boot that is not a first boot", () => {
    const g = generate("flatcar.randomize_guid=00000000-0000-0000-0000-000000000001");
    assert.deepEqual(requires(g), ["flint-randomize-guid.service"]);
  });

  it("passes flint.log=debug to the stages through /run/flint/flint.env", () => {
    const g = generate("flint.log=debug flatcar.first_boot=1");
    assert.equal(readFileSync(join(g.runDir, "flint.env"), "utf8"), "FLINT_LOG_LEVEL=debug\n");
  });

  it("ignores a flint.log value that is not a level (the stages report it)", () => {
    const g = generate("flint.log=loud flatcar.first_boot=1");
    assert.equal(existsSync(join(g.runDir, "flint.env")), false);
  });

  describe("the initramfs network (where systemd-networkd is installed, as in the initramfs)", () => {
    before(function () {
      if (!existsSync("/usr/lib/systemd/system/systemd-networkd.service")) this.skip();
    });

    it("starts networkd and the resolv.conf watch on a first boot only", () => {
      const g = generate("flatcar.first_boot=1 flatcar.oem.id=aws");
      assert.deepEqual(readdirSync(join(g.unitDir, "initrd.target.wants")).sort(), ["flint-resolv.path", "systemd-networkd.service"]);
      assert.equal(existsSync(join(work, "network")), false, "no link-local network outside DigitalOcean");
      rmSync(g.unitDir, { recursive: true, force: true });
      const later = generate("flatcar.oem.id=aws");
      assert.equal(existsSync(join(later.unitDir, "initrd.target.wants")), false);
    });

    it("gives DigitalOcean an IPv4 link-local address besides DHCP, whatever the spelling of its id", () => {
      for (const cmdline of ["flatcar.first_boot=1 flatcar.oem.id=digitalocean", "ignition.firstboot ignition.platform.id=DigitalOcean"]) {
        rmSync(join(work, "network"), { recursive: true, force: true });
        generate(cmdline);
        assert.equal(readlinkSync(join(work, "network", "05-flint-linklocal.network")), "/usr/lib/flint/network/05-flint-linklocal.network", cmdline);
      }
      // Found by DMI alone, as Flint finds the platform.
      rmSync(join(work, "network"), { recursive: true, force: true });
      mkdirSync(join(work, "sys/class/dmi/id"), { recursive: true });
      writeFileSync(join(work, "sys/class/dmi/id/sys_vendor"), "DigitalOcean\n");
      generate("flatcar.first_boot=detected");
      assert.equal(readlinkSync(join(work, "network", "05-flint-linklocal.network")), "/usr/lib/flint/network/05-flint-linklocal.network", "not found by DMI");
      rmSync(join(work, "network"), { recursive: true, force: true });
      generate("flatcar.first_boot=detected flatcar.oem.id=aws");
      assert.equal(existsSync(join(work, "network")), false, "the command line's platform wins over DMI");
      const linkLocal = readFileSync(join(__dirname, "..", "..", "..", "units", "05-flint-linklocal.network"), "utf8");
      assert.match(linkLocal, /^LinkLocalAddressing=yes$/m);
      assert.match(linkLocal, /^DHCP=yes$/m);
    });
  });
});
