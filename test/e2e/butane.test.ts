// End-to-end: a first boot whose fw_cfg config is Butane YAML, not Ignition
// JSON. Flint translates it inside the initramfs (loading its YAML library
// only then) and the machine reaches the real root with the config applied.

import assert from "node:assert/strict";
import { lstatSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { artefacts, boot, freshDisk, inspectDisk, PLACEHOLDER_GUID, scratch, writeConfig } from "./harness";

const FIRST_BOOT = `flatcar.first_boot=detected flatcar.randomize_guid=${PLACEHOLDER_GUID} flatcar.oem.id=qemu`;

const BUTANE = `# A Flatcar Butane config, as a user writes it
variant: flatcar
version: 1.1.0
passwd:
  users:
    - name: core
      ssh_authorized_keys:
        - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eButaneKeyForFlintBootTestsOnly00000000 butane@flint
storage:
  directories:
    - path: /var/lib/flint-butane
      mode: 0750
  files:
    - path: /etc/flint-butane/motd
      mode: 0640
      contents:
        inline: |
          provisioned from Butane
  links:
    - path: /etc/flint-butane/link
      target: /etc/flint-butane/motd
systemd:
  units:
    - name: butane-hello.service
      enabled: true
      contents: |
        [Service]
        Type=oneshot
        ExecStart=/usr/bin/echo Hello from Butane

        [Install]
        WantedBy=multi-user.target
`;

describe("booting from a Butane config", function () {
  this.timeout(1_800_000);
  let dir: string;

  before(function () {
    this.timeout(3_600_000);
    artefacts();
    dir = scratch("butane");
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("translates Butane YAML from fw_cfg in the initramfs and reaches the root with the config applied", async () => {
    const disk = freshDisk(dir, "butane.img");
    const config = writeConfig(dir, "machine.bu", BUTANE);
    const result = await boot({ name: "butane-first-boot", disk, config, append: FIRST_BOOT });
    assert.equal(result.timedOut, false, `the boot hit its time limit; console: ${result.logFile}`);
    assert.equal(result.console.includes("Flint failed"), false, `a Flint stage failed; see ${result.logFile}`);
    assert.match(result.console, /flint-test: multi-user\.target reached/, `never reached the real root; see ${result.logFile}`);
    assert.match(result.console, /Hello from Butane/, `the unit from the Butane config did not run; see ${result.logFile}`);
    await inspectDisk(disk, ({ root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-butane/motd"), "utf8"), "provisioned from Butane\n");
      assert.equal(statSync(join(root, "etc/flint-butane/motd")).mode & 0o777, 0o640);
      assert.equal(statSync(join(root, "var/lib/flint-butane")).mode & 0o777, 0o750);
      assert.equal(readlinkSync(join(root, "etc/flint-butane/link")), "/etc/flint-butane/motd");
      assert.match(readFileSync(join(root, "home/core/.ssh/authorized_keys"), "utf8"), /butane@flint/);
      assert.equal(lstatSync(join(root, "etc/systemd/system/multi-user.target.wants/butane-hello.service")).isSymbolicLink(), true);
    });
  });
});
