// What the initramfs generator (units/flint-generator) sets up per platform
// and command line: `ip=` masks Flint's DHCP-everywhere network file, so that
// systemd-network-generator's 90-*.network applies; the check-in units only
// where a platform wants them, whether named on the command line or found
// by DMI.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const GENERATOR = join(__dirname, "../../../units/flint-generator");

describe("the generator's per-platform set-up", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-generator-platforms-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  /** Runs the generator; returns the wants of `target`. */
  function generate(cmdline: string, dmi: Record<string, string> = {}): (target: string) => string[] {
    rmSync(join(work, "units"), { recursive: true, force: true });
    rmSync(join(work, "network"), { recursive: true, force: true });
    mkdirSync(join(work, "sys/class/dmi/id"), { recursive: true });
    for (const [field, value] of Object.entries(dmi)) writeFileSync(join(work, "sys/class/dmi/id", field), `${value}\n`);
    writeFileSync(join(work, "cmdline"), `${cmdline}\n`);
    const env = { ...process.env, FLINT_CMDLINE_FILE: join(work, "cmdline"), FLINT_RUN_DIR: join(work, "run"), FLINT_NETWORK_DIR: join(work, "network"), FLINT_SYSFS_ROOT: join(work, "sys") };
    execFileSync("sh", [GENERATOR, join(work, "units"), join(work, "early"), join(work, "late")], { env });
    return (target) => {
      const dir = join(work, "units", `${target}.wants`);
      return existsSync(dir) ? readdirSync(dir).sort() : [];
    };
  }

  describe("with systemd-networkd", function () {
    before(function () {
      if (!existsSync("/usr/lib/systemd/system/systemd-networkd.service")) this.skip();
    });

    it("ip= runs systemd-network-generator and masks 10-flint-dhcp.network (and DigitalOcean's link-local file is not linked)", () => {
      const wants = generate("flatcar.first_boot=1 ip=192.0.2.50::192.0.2.1:255.255.255.0:host:eth0:none flatcar.oem.id=digitalocean");
      assert.ok(wants("initrd.target").includes("systemd-network-generator.service"));
      assert.equal(readlinkSync(join(work, "network/10-flint-dhcp.network")), "/dev/null");
      assert.equal(existsSync(join(work, "network/05-flint-linklocal.network")), false);
      generate("flatcar.first_boot=1 ip=dhcp");
      assert.equal(readlinkSync(join(work, "network/10-flint-dhcp.network")), "/dev/null");
    });

    it("without ip=, or on a later boot, Flint's DHCP file stays", () => {
      assert.equal(generate("flatcar.first_boot=1 flatcar.oem.id=aws")("initrd.target").includes("systemd-network-generator.service"), false);
      assert.equal(existsSync(join(work, "network/10-flint-dhcp.network")), false);
      generate("ip=192.0.2.50::192.0.2.1:255.255.255.0:host:eth0:none");
      assert.equal(existsSync(join(work, "network")), false);
    });
  });

  it("Azure and Equinix Metal: the check-in after success and after failure, on a first boot only", () => {
    for (const [cmdline, dmi] of [
      ["flatcar.first_boot=1 flatcar.oem.id=azure", {}],
      ["flatcar.first_boot=detected ignition.platform.id=packet", {}],
      ["flatcar.first_boot=detected flatcar.oem.id=equinixmetal", {}],
      ["flatcar.first_boot=detected", { chassis_asset_tag: "7783-7084-3265-9085-8269-3286-77", sys_vendor: "Microsoft Corporation" }],
      ["flatcar.first_boot=detected", { sys_vendor: "Equinix Metal" }],
    ] as [string, Record<string, string>][]) {
      const wants = generate(cmdline, dmi);
      assert.ok(wants("initrd.target").includes("flint-checkin.service"), cmdline);
      assert.deepEqual(wants("emergency.target"), ["flint-checkin-failed.service"], cmdline);
    }
    const later = generate("flatcar.oem.id=azure");
    assert.deepEqual([later("initrd.target"), later("emergency.target")], [[], []]);
  });

  it("VMware and VirtualBox: the config deletion after success; no failure report", () => {
    for (const [cmdline, dmi] of [
      ["flatcar.first_boot=1 flatcar.oem.id=virtualbox", {}],
      ["flatcar.first_boot=1", { sys_vendor: "VMware, Inc." }],
    ] as [string, Record<string, string>][]) {
      const wants = generate(cmdline, dmi);
      assert.ok(wants("initrd.target").includes("flint-checkin.service"), cmdline);
      assert.deepEqual(wants("emergency.target"), [], cmdline);
    }
  });

  it("other platforms and a local Hyper-V VM get neither", () => {
    for (const [cmdline, dmi] of [
      ["flatcar.first_boot=1 flatcar.oem.id=aws", {}],
      ["flatcar.first_boot=1", { sys_vendor: "Microsoft Corporation", chassis_asset_tag: "0000-0000" }],
    ] as [string, Record<string, string>][]) {
      const wants = generate(cmdline, dmi);
      assert.equal(wants("initrd.target").includes("flint-checkin.service"), false, cmdline);
      assert.deepEqual(wants("emergency.target"), [], cmdline);
    }
  });
});
