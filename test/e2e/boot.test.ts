// End-to-end boots: the Debian kernel with the real dracut initramfs (Flint
// module included) in QEMU under TCG, a Flatcar-like disk image, the config in
// fw_cfg or on an HTTP server, and the serial console read back. Every console
// log is kept under test-output/e2e/.

import assert from "node:assert/strict";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { artefacts, blankDisk, boot, freshDisk, inspectDisk, inspectPartition, keepForLater, PLACEHOLDER_GUID, scratch, writeConfig, writeToPartition, type BootResult } from "./harness";

const FIRST_BOOT = `flatcar.first_boot=detected flatcar.randomize_guid=${PLACEHOLDER_GUID} flatcar.oem.id=qemu`;
const SWITCHED_ROOT = "flint-test: multi-user.target reached";

/** Asserts the boot ended by itself, and shows where its console log is when it did not. */
function assertFinished(result: BootResult): void {
  assert.equal(result.timedOut, false, `the boot hit its time limit; console: ${result.logFile}`);
}

function assertConsole(result: BootResult, text: string | RegExp, present = true): void {
  const found = typeof text === "string" ? result.console.includes(text) : text.test(result.console);
  assert.equal(found, present, `${present ? "expected" : "did not expect"} ${String(text)} on the console; see ${result.logFile}`);
}

const dataUrl = (text: string) => `data:,${encodeURIComponent(text)}`;

function firstConfig(greetingFile: string) {
  return {
    ignition: { version: "3.3.0" },
    storage: {
      directories: [{ path: "/var/lib/flint-e2e", mode: 0o750 }],
      files: [
        { path: "/etc/flint-e2e/greeting", mode: 0o644, contents: { source: dataUrl(greetingFile) } },
        { path: "/etc/flint-e2e/secret", mode: 0o600, user: { name: "core" }, contents: { source: dataUrl("s3cr3t\n") } },
      ],
      links: [{ path: "/etc/flint-e2e/link", target: "/etc/flint-e2e/greeting" }],
    },
    passwd: { users: [{ name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2eTestKeyForFlintBootTestsOnly0000000000000 e2e@flint"] }] },
    systemd: {
      units: [
        {
          // The seed example's unit: it prints "Hello World" in the real root.
          name: "my.service",
          enabled: true,
          contents: "[Service]\nType=oneshot\nExecStart=/usr/bin/echo Hello World\n\n[Install]\nWantedBy=multi-user.target",
        },
      ],
    },
  };
}

describe("booting a Flatcar-like image in QEMU", function () {
  this.timeout(1_800_000);
  let dir: string;

  before(function () {
    this.timeout(3_600_000);
    artefacts();
    dir = scratch("boot");
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("one machine through three boots", () => {
    let disk: string;
    before(() => {
      disk = freshDisk(dir, "machine.img");
    });

    it("provisions on first boot: random disk GUID, flag quenched, files, user and unit in ROOT, unit runs after switch-root", async () => {
      const config = writeConfig(dir, "first.ign", firstConfig("first boot\n"));
      const result = await boot({ name: "1-first-boot", disk, config, append: FIRST_BOOT });
      assertFinished(result);
      assertConsole(result, "Flint failed", false);
      assertConsole(result, /Finished flint-files\.service|Finished .*Flint \(files\)/);
      // The initramfs has no Node: Flint and Node are the /usr partition's.
      assertConsole(result, "flint: running /sysusr/usr/bin/node /sysusr/usr/lib/flint/flint.js (Node and Flint from the /usr partition)");
      assertConsole(result, SWITCHED_ROOT);
      assertConsole(result, /echo\[\d+\]: Hello World|Hello World/);
      await inspectDisk(disk, ({ diskGuid, espFlatcar, root }) => {
        assert.notEqual(diskGuid, PLACEHOLDER_GUID, "the disk GUID is still the placeholder");
        assert.match(diskGuid, /^[0-9a-f-]{36}$/);
        assert.equal(espFlatcar.includes("first_boot"), false, `flatcar/first_boot is still on the ESP: ${espFlatcar.join(", ")}`);
        assert.equal(readFileSync(join(root, "etc/flint-e2e/greeting"), "utf8"), "first boot\n");
        const secret = statSync(join(root, "etc/flint-e2e/secret"));
        const core = /^core:[^:]*:(\d+):/m.exec(readFileSync(join(root, "etc/passwd"), "utf8"));
        assert.ok(core, "no core user in ROOT's /etc/passwd");
        assert.deepEqual([secret.mode & 0o777, secret.uid, secret.gid], [0o600, Number(core[1]), 0], "the secret is 0600, owned by core, group root");
        assert.equal(statSync(join(root, "var/lib/flint-e2e")).isDirectory(), true);
        assert.equal(readlinkSync(join(root, "etc/flint-e2e/link")), "/etc/flint-e2e/greeting");
        assert.match(readFileSync(join(root, "etc/passwd"), "utf8"), /^core:/m);
        assert.match(readFileSync(join(root, "home/core/.ssh/authorized_keys"), "utf8"), /e2e@flint/);
        assert.equal(existsSync(join(root, "etc/systemd/system/my.service")), true);
        assert.equal(lstatSync(join(root, "etc/systemd/system/multi-user.target.wants/my.service")).isSymbolicLink(), true);
        // The result report: every root stage ran and worked, the actions are listed, the contents are not.
        const reportText = readFileSync(join(root, "etc/.flint-result.json"), "utf8");
        const report = JSON.parse(reportText);
        assert.equal(report.ok, true);
        assert.deepEqual(report.stages.map((s: { name: string; ok: boolean }) => `${s.name}:${s.ok}`), ["disks:true", "mount:true", "files:true", "umount:true"]);
        const files = report.stages.find((s: { name: string }) => s.name === "files");
        assert.ok(files.actions.some((a: { kind: string; target: string }) => a.kind === "create" && a.target === "/etc/flint-e2e/secret"), reportText);
        assert.equal(reportText.includes("s3cr3t"), false, "file contents in the report");
        // Ignition's result file, which Flatcar's units read: the user config came from fw_cfg.
        const result = JSON.parse(readFileSync(join(root, "etc/.ignition-result.json"), "utf8"));
        assert.deepEqual(Object.keys(result), ["provisioningBootID", "provisioningDate", "userConfigProvided"]);
        assert.match(result.provisioningBootID, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.equal(result.userConfigProvided, true);
        assert.equal(statSync(join(root, "etc/.ignition-result.json")).mode & 0o777, 0o600);
      });
    });

    it("runs no Flint stage on the next boot, which has no first-boot flag", async () => {
      const result = await boot({ name: "2-second-boot", disk, append: "flatcar.oem.id=qemu" });
      assertFinished(result);
      assertConsole(result, SWITCHED_ROOT);
      assertConsole(result, /Flint \(|flint-generator: first boot/, false);
      assertConsole(result, "Hello World"); // the enabled unit still runs
    });

    it("reprovisions with flatcar.first_boot=1 and applies the changed config, from config.ign on the OEM partition (no fw_cfg)", async () => {
      const changed = firstConfig("reprovisioned\n");
      changed.storage.files.push({ path: "/etc/flint-e2e/added", mode: 0o644, contents: { source: dataUrl("added\n") } } as never);
      changed.storage.files[0] = { ...changed.storage.files[0]!, overwrite: true } as never;
      // Where `flatcar-install -i` puts the user's config: it applies on every platform.
      await writeToPartition(disk, 6, "config.ign", JSON.stringify(changed));
      const result = await boot({ name: "3-reprovision", disk, append: "flatcar.first_boot=1 flatcar.oem.id=qemu" });
      assertFinished(result);
      assertConsole(result, "Flint failed", false);
      assertConsole(result, "using config.ign from the OEM partition");
      assertConsole(result, SWITCHED_ROOT);
      await inspectDisk(disk, ({ root }) => {
        assert.equal(readFileSync(join(root, "etc/flint-e2e/greeting"), "utf8"), "reprovisioned\n");
        assert.equal(readFileSync(join(root, "etc/flint-e2e/added"), "utf8"), "added\n");
        // Provisioned again: Ignition's result file keeps the first boot's under previousReport.
        const result = JSON.parse(readFileSync(join(root, "etc/.ignition-result.json"), "utf8"));
        assert.equal(result.userConfigProvided, true);
        assert.equal(result.previousReport.userConfigProvided, true);
        assert.notEqual(result.provisioningBootID, result.previousReport.provisioningBootID);
      });
    });
  });

  it("stops in emergency mode on a config error: summary with the JSON path and, with flint.log=debug, a machine dump; flag kept, ROOT untouched", async () => {
    const disk = freshDisk(dir, "bad.img");
    const config = writeConfig(dir, "bad.ign", {
      ignition: { version: "3.3.0" },
      storage: {
        files: [
          { path: "/etc/flint-e2e/should-not-exist", contents: { source: dataUrl("no\n") } },
          { path: "relative/path", contents: { source: dataUrl("no\n") } },
        ],
      },
    });
    const result = await boot({ name: "4-bad-config", disk, config, append: `${FIRST_BOOT} flint.log=debug` });
    assertFinished(result);
    assertConsole(result, "Flint failed in stage");
    assertConsole(result, /storage\.files\.1\.path: path must be absolute/);
    // The dump under the box: enough to diagnose from the serial console alone.
    assertConsole(result, "---- machine dump (flint.log=debug) ----");
    assertConsole(result, /system: .*QEMU/);
    assertConsole(result, /vda: disk 3\.1 GiB/);
    assertConsole(result, /GPT disk GUID [0-9a-f-]{36}, 7 partition\(s\)/);
    assertConsole(result, /#1 type=EFI system name="EFI-SYSTEM"/);
    assertConsole(result, /vda1: part .*\[.*partlabel=EFI-SYSTEM/);
    assertConsole(result, SWITCHED_ROOT, false);
    await inspectDisk(disk, ({ espFlatcar, root }) => {
      assert.equal(espFlatcar.includes("first_boot"), true, "the first-boot flag was removed after a failure");
      assert.equal(existsSync(join(root, "etc/flint-e2e")), false, "something was written to ROOT");
      // The config failed validation in fetch-offline: no root stage ran, so there is no report in ROOT.
      assert.equal(existsSync(join(root, "etc/.flint-result.json")), false, "a report in ROOT after a failed fetch");
    });
  });

  it("reprovisions the root: a config that reformats ROOT (wipeFilesystem, label ROOT) boots into the new filesystem with its files", async () => {
    const disk = freshDisk(dir, "reprovision-root.img");
    const config = writeConfig(dir, "reprovision-root.ign", {
      ignition: { version: "3.4.0" },
      storage: {
        // As Flatcar's documentation reprovisions the root filesystem.
        filesystems: [{ device: "/dev/disk/by-label/ROOT", format: "ext4", label: "ROOT", wipeFilesystem: true }],
        files: [{ path: "/etc/flint-e2e/new-root", mode: 0o644, contents: { source: dataUrl("on the new ROOT\n") } }],
      },
      systemd: {
        units: [{ name: "new-root.service", enabled: true, contents: "[Service]\nType=oneshot\nExecStart=/usr/bin/echo Booted the new ROOT\nStandardOutput=journal+console\n\n[Install]\nWantedBy=multi-user.target\n" }],
      },
    });
    const result = await boot({ name: "4c-reprovision-root", disk, config, append: FIRST_BOOT });
    assertFinished(result);
    assertConsole(result, "Flint failed", false);
    assertConsole(result, /flint\[info\]: making ext4 on \/dev\/vda9 label=ROOT/);
    // The empty ROOT gets /etc and the links into /usr from the image (scripts/lib/demo-root/).
    assertConsole(result, "demo-setup-root: ROOT has no /etc");
    assertConsole(result, SWITCHED_ROOT);
    assertConsole(result, "Booted the new ROOT");
    await inspectDisk(disk, ({ espFlatcar, root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-e2e/new-root"), "utf8"), "on the new ROOT\n");
      assert.equal(readlinkSync(join(root, "bin")), "usr/bin");
      assert.equal(readFileSync(join(root, "etc/hostname"), "utf8"), "flint-demo\n");
      // The image's ROOT had the Debian package database; the new filesystem starts without it.
      assert.equal(existsSync(join(root, "var/lib/dpkg/status")), false, "ROOT was not reformatted");
      assert.deepEqual(readdirSync(join(root, "usr")), [], "ROOT holds a /usr of its own");
      assert.equal(espFlatcar.includes("first_boot"), false);
    });
  });

  it("never switches root when a late stage fails: files stops on a wrong verification hash", async () => {
    const disk = freshDisk(dir, "late-failure.img");
    const config = writeConfig(dir, "bad-hash.ign", {
      ignition: { version: "3.3.0" },
      storage: {
        files: [{ path: "/etc/flint-e2e/bad-hash", contents: { source: dataUrl("hello\n"), verification: { hash: `sha512-${"0".repeat(128)}` } } }],
      },
    });
    const result = await boot({ name: "4b-files-failure", disk, config, append: FIRST_BOOT });
    assertFinished(result);
    assertConsole(result, "Flint failed in stage: files");
    assertConsole(result, /Failed to start flint-files\.service/);
    assertConsole(result, "Switching root", false);
    assertConsole(result, SWITCHED_ROOT, false);
    await inspectDisk(disk, ({ espFlatcar, root }) => {
      assert.equal(espFlatcar.includes("first_boot"), true, "the first-boot flag was removed after a failure");
      assert.equal(existsSync(join(root, "etc/flint-e2e/bad-hash")), false, "the file with the wrong hash was written");
    });
  });

  it("enables a unit the image does not have: the boot still reaches the root, with the preset line on the disk", async () => {
    const disk = freshDisk(dir, "absent-unit.img");
    const config = writeConfig(dir, "absent-unit.ign", {
      ignition: { version: "3.4.0" },
      systemd: {
        units: [
          // Neither is in the image (on Flatcar, docker arrives later with a sysext image).
          { name: "docker.service", enabled: true, dropins: [{ name: "10-flint.conf", contents: "[Service]\nEnvironment=FLINT=1\n" }] },
          { name: "wg-quick@wg0.service", enabled: true },
        ],
      },
    });
    const result = await boot({ name: "7-absent-unit", disk, config, append: FIRST_BOOT });
    assertFinished(result);
    assertConsole(result, "Flint failed", false);
    assertConsole(result, /unit docker\.service is not in the root yet/);
    assertConsole(result, SWITCHED_ROOT);
    await inspectDisk(disk, ({ espFlatcar, root }) => {
      const preset = readFileSync(join(root, "etc/systemd/system-preset/20-ignition.preset"), "utf8");
      assert.match(preset, /^enable docker\.service$/m);
      assert.match(preset, /^enable wg-quick@\.service wg0$/m);
      assert.equal(readFileSync(join(root, "etc/systemd/system/docker.service.d/10-flint.conf"), "utf8"), "[Service]\nEnvironment=FLINT=1\n");
      assert.equal(espFlatcar.includes("first_boot"), false, "the first boot did not complete");
    });
  });

  describe("kernelArguments on a machine whose loader does not read grub.cfg", () => {
    let disk: string;
    let config: string;
    before(() => {
      disk = freshDisk(dir, "kargs.img");
      config = writeConfig(dir, "kargs.ign", {
        ignition: { version: "3.4.0" },
        kernelArguments: { shouldExist: ["flint.e2e.karg=1"] },
        storage: { files: [{ path: "/etc/flint-e2e/kargs", contents: { source: dataUrl("written before the reboot\n") } }] },
      });
    });

    it("writes the linux_append line on OEM after the other stages and reboots before switch-root, keeping the first-boot flag", async () => {
      const result = await boot({ name: "8a-kargs-reboot", disk, config, append: FIRST_BOOT });
      assertFinished(result);
      assertConsole(result, "Flint failed", false);
      assertConsole(result, "flint: rebooting for the new kernel arguments");
      assertConsole(result, SWITCHED_ROOT, false);
      await inspectPartition(disk, 6, (oem) => {
        assert.match(readFileSync(join(oem, "grub.cfg"), "utf8"), /^set linux_append="\$linux_append flint\.e2e\.karg=1"$/m);
      });
      await inspectDisk(disk, ({ espFlatcar, root }) => {
        assert.equal(espFlatcar.includes("first_boot"), true, "the flag was quenched before the reboot");
        assert.equal(readFileSync(join(root, "etc/flint-e2e/kargs"), "utf8"), "written before the reboot\n");
      });
    });

    it("on the next first boot changes nothing, so it does not reboot again though the command line still lacks the argument", async () => {
      const result = await boot({ name: "8b-kargs-no-loop", disk, config, append: FIRST_BOOT });
      assertFinished(result);
      assertConsole(result, "Flint failed", false);
      assertConsole(result, "flint: rebooting for the new kernel arguments", false);
      assertConsole(result, SWITCHED_ROOT);
      await inspectDisk(disk, ({ espFlatcar }) => {
        assert.equal(espFlatcar.includes("first_boot"), false);
      });
    });
  });

  describe("the agent killed with SIGKILL in the middle of the files stage", () => {
    let server: Server;
    let stall = true;
    before(async () => {
      server = createServer((req, res) => {
        if (req.url !== "/slow") return void res.writeHead(404).end();
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.write("first half, ");
        // The first boot's fetch never finishes: the agent is killed while it waits.
        if (!stall) res.end("second half\n");
      });
      // Loopback only: QEMU's user network makes it 10.0.2.2 for the guest.
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    });
    after(() => {
      server?.closeAllConnections();
      return new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    it("a stage unit stopped in the middle of its stage leaves no stage running in the agent", async () => {
      const disk = freshDisk(dir, "stopped.img");
      const port = (server.address() as AddressInfo).port;
      const config = writeConfig(dir, "slow-stop.ign", {
        ignition: { version: "3.3.0" },
        storage: { files: [{ path: "/etc/flint-e2e/slow", contents: { source: `http://10.0.2.2:${port}/slow` } }] },
      });
      const stopped = await boot({ name: "7s-files-stopped", disk, config, append: `${FIRST_BOOT} flint.e2e.stop_files` });
      assertFinished(stopped);
      assertConsole(stopped, "flint-e2e: stopping flint-files.service in the middle of its stage");
      // The agent says so once the stage has ended (its journal is forwarded to the console here).
      assertConsole(stopped, /stage files: cancelled after \d+ ms: its client went away/);
      assertConsole(stopped, /stage files: exit \d/, false);
      assertConsole(stopped, "Switching root", false);
      await inspectDisk(disk, ({ espFlatcar, root }) => {
        assert.equal(espFlatcar.includes("first_boot"), true);
        assert.equal(existsSync(join(root, "etc/flint-e2e/slow")), false, "the stopped stage went on to write its file");
      });
    });

    it("stops the boot with the stage named, and the next boot provisions cleanly", async () => {
      const disk = freshDisk(dir, "killed.img");
      const port = (server.address() as AddressInfo).port;
      const config = writeConfig(dir, "slow.ign", {
        ignition: { version: "3.3.0" },
        storage: {
          files: [
            { path: "/etc/flint-e2e/before", contents: { source: dataUrl("inline\n") } },
            { path: "/etc/flint-e2e/slow", contents: { source: `http://10.0.2.2:${port}/slow` } },
          ],
        },
      });
      const killed = await boot({ name: "7-agent-killed", disk, config, append: `${FIRST_BOOT} flint.e2e.kill_agent_in_files` });
      assertFinished(killed);
      assertConsole(killed, /flint-e2e: kill -9 \d+ \(flint agent\)/);
      assertConsole(killed, "the Flint agent ended during stage files before it finished");
      // The agent's own failure may isolate emergency.target first, so systemd
      // says "Stopped" on the status line; the journal line says the unit failed.
      assertConsole(killed, /flint-files\.service: Failed with result|Failed to start flint-files\.service/);
      assertConsole(killed, "Switching root", false);
      await inspectDisk(disk, ({ espFlatcar, root }) => {
        assert.equal(espFlatcar.includes("first_boot"), true, "the first-boot flag was removed after the agent died");
        assert.equal(existsSync(join(root, "etc/flint-e2e/slow")), false, "the unfinished file has its real name");
      });

      stall = false;
      const again = await boot({ name: "7b-after-kill", disk, config, append: FIRST_BOOT });
      assertFinished(again);
      assertConsole(again, "Flint failed", false);
      assertConsole(again, SWITCHED_ROOT);
      await inspectDisk(disk, ({ espFlatcar, root }) => {
        assert.equal(espFlatcar.includes("first_boot"), false);
        assert.equal(readFileSync(join(root, "etc/flint-e2e/slow"), "utf8"), "first half, second half\n");
        assert.equal(readFileSync(join(root, "etc/flint-e2e/before"), "utf8"), "inline\n");
        assert.deepEqual(readdirSync(join(root, "etc/flint-e2e")).filter((n) => n.includes("flint-tmp")), [], "the killed run's temporary files are still there");
      });
    });
  });

  describe("a config over the network", () => {
    let server: Server;
    const requests: string[] = [];
    before(async () => {
      const body = JSON.stringify({
        ignition: { version: "3.3.0" },
        storage: { files: [{ path: "/etc/flint-e2e/from-http", contents: { source: dataUrl("fetched over http\n") } }] },
      });
      server = createServer((req, res) => {
        requests.push(req.url ?? "");
        if (req.url === "/machine.ign") {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(body);
        } else {
          res.writeHead(404).end();
        }
      });
      // Loopback only: QEMU's user network makes it 10.0.2.2 for the guest.
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    });
    after(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

    it("fetches ignition.config.url from the host through DHCP in the initramfs", async () => {
      const disk = freshDisk(dir, "net.img");
      const port = (server.address() as AddressInfo).port;
      const result = await boot({ name: "5-network", disk, append: `${FIRST_BOOT} ignition.config.url=http://10.0.2.2:${port}/machine.ign` });
      assertFinished(result);
      assertConsole(result, "Flint failed", false);
      assert.deepEqual(requests.filter((r) => r === "/machine.ign").length > 0, true, `the server saw no request for the config: ${requests.join(", ")}`);
      assertConsole(result, SWITCHED_ROOT);
      await inspectDisk(disk, ({ root }) => {
        assert.equal(readFileSync(join(root, "etc/flint-e2e/from-http"), "utf8"), "fetched over http\n");
      });
    });
  });

  it("partitions and formats a blank second disk and writes into it through a filesystem path", async () => {
    const disk = freshDisk(dir, "disks.img");
    const data = blankDisk(dir, "data.img", "256M");
    const config = writeConfig(dir, "disks.ign", {
      ignition: { version: "3.3.0" },
      storage: {
        disks: [{ device: "/dev/vdb", wipeTable: true, partitions: [{ number: 1, label: "FLINT-DATA" }] }],
        filesystems: [{ device: "/dev/disk/by-partlabel/FLINT-DATA", format: "ext4", label: "flint-data", path: "/var/flint-data", wipeFilesystem: true }],
        files: [{ path: "/var/flint-data/hello", contents: { source: dataUrl("on the second disk\n") } }],
      },
    });
    const result = await boot({ name: "6-disks", disk, config, extraDisks: [data], append: FIRST_BOOT });
    assertFinished(result);
    assertConsole(result, "Flint failed", false);
    assertConsole(result, SWITCHED_ROOT);
    try {
      await inspectPartition(data, 1, (mnt) => {
        assert.equal(readFileSync(join(mnt, "hello"), "utf8"), "on the second disk\n");
      });
    } catch (e) {
      keepForLater(data, "6-disks-data.img");
      throw e;
    }
  });
});
