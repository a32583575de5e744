// First boots in the cloud lab (test/e2e/lab.ts): the real initramfs in QEMU
// on a tap in a network namespace of the test's own, with DHCP and DNS from
// dnsmasq and each cloud's fake services at the real addresses and names.
// Every boot is judged on the disk afterwards, not only on console lines.

import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { artefacts, boot, freshDisk, inspectDisk, PLACEHOLDER_GUID, scratch, writeConfig, type BootResult } from "./harness";
import { CONFIG_URL, Lab, type LabOptions } from "./lab";

const FIRST_BOOT = `flatcar.first_boot=detected flatcar.randomize_guid=${PLACEHOLDER_GUID}`;
const SWITCHED_ROOT = "flint-test: multi-user.target reached";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILabLabLabLabLabLabLabLabLabLabLabLabLabLabL lab@flint";
const dataUrl = (text: string) => `data:,${encodeURIComponent(text)}`;

function userConfig(marker: string) {
  return {
    ignition: { version: "3.3.0" },
    storage: { files: [{ path: "/etc/flint-lab/marker", mode: 0o644, contents: { source: dataUrl(`${marker}\n`) } }] },
  };
}

function assertBooted(result: BootResult): void {
  assert.equal(result.timedOut, false, `the boot hit its time limit; console: ${result.logFile}`);
  assert.equal(result.console.includes("Flint failed"), false, `a Flint stage failed; console: ${result.logFile}`);
  assert.equal(result.console.includes(SWITCHED_ROOT), true, `the real root was never reached; console: ${result.logFile}`);
}

describe("first boots in the cloud lab", function () {
  this.timeout(1_800_000);
  let dir: string;
  let lab: Lab | undefined;

  before(function () {
    this.timeout(3_600_000);
    artefacts();
    dir = scratch("lab");
  });
  afterEach(async () => {
    await lab?.stop();
    lab?.removeFiles();
    lab = undefined;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One first boot in a fresh lab; returns the disk and the console. */
  async function labBoot(name: string, options: Omit<LabOptions, "name">, append = ""): Promise<{ disk: string; result: BootResult }> {
    lab = await Lab.start({ name, ...options });
    const disk = freshDisk(dir, `${name}.img`);
    const result = await boot({ name: `lab-${name}`, disk, append: `${FIRST_BOOT} ${lab.cmdline} ${append}`.trim(), ...lab.bootOptions() });
    return { disk, result };
  }

  it("metal: fetches ignition.config.url by host name (DHCP, then DNS from the lease)", async () => {
    const config = writeConfig(dir, "metal.ign", userConfig("metal by name"));
    const { disk, result } = await labBoot("metal", { platform: "metal", userdata: config });
    assertBooted(result);
    assert.equal(lab!.cmdline.includes(CONFIG_URL), true);
    assertRequested(/ GET \/boot\.ign 200$/);
    assert.match(lab!.dnsLog(), /query\[A\] config\.example\.test/);
    await inspectDisk(disk, ({ root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), "metal by name\n");
    });
  });

  it("aws: found by DMI alone, IMDSv2 only: user data applied, key for core, hostname set", async () => {
    const userdata = writeConfig(dir, "aws.ign", userConfig("aws user data"));
    const { disk, result } = await labBoot("aws", { platform: "aws", userdata, sshKey: KEY, hostname: "flint-lab-aws", scenario: "imdsv2-only" });
    assertBooted(result);
    assert.match(result.console, /detected platform aws/);
    assertRequested(/ PUT \/latest\/api\/token 200$/);
    await inspectDisk(disk, ({ root }) => assertProvisioned(root, "aws user data", "flint-lab-aws"));
  });

  function assertRequested(pattern: RegExp): void {
    assert.equal(lab!.requests().some((r) => pattern.test(r)), true, `no request matched ${String(pattern)}: ${lab!.requests().join("; ")}`);
  }

  /** The user config applied, the metadata key for core in its fragment, the hostname, and no refresh unit (the root has no Flint). */
  function assertProvisioned(root: string, marker: string, hostname: string): void {
    assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), `${marker}\n`);
    const home = join(root, "home/core/.ssh");
    assert.equal(readFileSync(join(home, "authorized_keys.d/flint-metadata"), "utf8"), `${KEY}\n`);
    assert.match(readFileSync(join(home, "authorized_keys"), "utf8"), new RegExp(`^${KEY.replace(/[.+]/g, "\\$&")}$`, "m"));
    assert.equal(readFileSync(join(root, "etc/hostname"), "utf8"), `${hostname}\n`);
    assert.equal(existsSync(join(root, "etc/systemd/system/multi-user.target.wants/flint-sshkeys@core.service")), false);
  }
});

