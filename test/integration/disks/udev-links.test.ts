// Config devices named by udev links (/dev/disk/by-partlabel/…): the stage
// waits for the links of the partitions it made and follows them. Runs a udev
// daemon for the duration of this file only (the host has none otherwise).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readlinkSync } from "node:fs";
import { udevRunning } from "../../../agent/devices/udev";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { blkid, runStage, storageConfig } from "./helpers";

const UDEVD = ["/lib/systemd/systemd-udevd", "/usr/lib/systemd/systemd-udevd"].find((p) => existsSync(p));

describe("disks stage: udev links", function () {
  let startedUdev = false;
  let disk: LoopDisk;
  const label = `flint-${process.pid}-data`;

  before(function () {
    if (!UDEVD) this.skip();
    // The control socket file outlives the daemon; only an answer to a ping means one runs.
    if (spawnSync("udevadm", ["control", "--ping", "--timeout=2"]).status !== 0) {
      const result = spawnSync(UDEVD!, ["--daemon"], { encoding: "utf8" });
      assert.equal(result.status, 0, result.stderr);
      startedUdev = true;
    }
  });
  after(() => {
    if (startedUdev) spawnSync("udevadm", ["control", "--exit"]);
  });
  beforeEach(() => {
    disk = createLoopDisk(64, "flint-udev-");
  });
  afterEach(() => {
    disk?.destroy();
    spawnSync("udevadm", ["settle", "--timeout=10"]);
  });

  it("knows the daemon runs from its control socket alone, and that it is gone once it exits", async () => {
    assert.equal(await udevRunning(), true);
    if (!startedUdev) return; // the host's own daemon: not ours to stop
    spawnSync("udevadm", ["control", "--exit"]);
    for (let i = 0; i < 50 && (await udevRunning()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await udevRunning(), false, "the socket file left behind is not a daemon");
    const result = spawnSync(UDEVD!, ["--daemon"], { encoding: "utf8" });
    assert.equal(result.status, 0, result.stderr);
  });

  it("makes a filesystem on a partition named by its by-partlabel link, waiting for the link", async () => {
    await runStage(
      storageConfig({
        disks: [{ device: disk.device, partitions: [{ number: 1, label, sizeMiB: 16 }] }],
        filesystems: [{ device: `/dev/disk/by-partlabel/${label}`, format: "ext4", label: "by-link" }],
      }),
    );
    assert.equal(readlinkSync(`/dev/disk/by-partlabel/${label}`).replace(/^.*\//, ""), disk.partition(1).replace(/^.*\//, ""));
    assert.equal(blkid(disk.partition(1)).LABEL, "by-link");
  });

  it("partitions a disk named by a udev link to it", async () => {
    // udev's record of the device may still be the one of the loop device the last test detached
    // (another disk sequence number): ask once udev has handled this attach.
    spawnSync("udevadm", ["settle", "--timeout=30"]);
    const links = sh("udevadm", ["info", "--query=symlink", `--name=${disk.device}`]).trim().split(/\s+/).filter(Boolean);
    const link = links.find((l) => l.startsWith("disk/") && existsSync(`/dev/${l}`));
    assert.ok(link, `udev made a /dev/disk link for ${disk.device} (got ${JSON.stringify(links)})`);
    await runStage(storageConfig({ disks: [{ device: `/dev/${link}`, partitions: [{ number: 1, label: "via-link", sizeMiB: 8 }] }] }));
    assert.match(sh("sgdisk", ["-p", disk.device]), /via-link/);
  });
});
