// First boots in the cloud lab (test/e2e/lab.ts): the real initramfs in QEMU
// on a tap in a network namespace of the test's own, with DHCP and DNS from
// dnsmasq and each cloud's fake services at the real addresses and names.
// Every boot is judged on the disk afterwards, not only on console lines.

import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, rmSync } from "node:fs";
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
    assert.equal(lab!.requests().some((r) => / GET \/boot\.ign 200$/.test(r)), true, `the config server saw no request: ${lab!.requests().join("; ")}`);
    assert.match(lab!.dnsLog(), /query\[A\] config\.example\.test/);
    await inspectDisk(disk, ({ root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), "metal by name\n");
    });
  });
});

export { CONFIG_URL, KEY, existsSync, readdirSync };
