// Software RAID with mdadm over loop devices. Creating an array needs the md
// driver. The config's own RAID rules (levels, spares) are validation's
// (test/unit/config/validate.test.ts).

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createLoopDisk, kernelHas, sh, type LoopDisk } from "../../helpers/loop";
import { blkid, runStage, storageConfig } from "./helpers";

describe("disks stage: RAID", () => {
  let disks: LoopDisk[] = [];
  const name = `flint-test-${process.pid}`;
  beforeEach(() => {
    disks = [createLoopDisk(64, "flint-raid-a-"), createLoopDisk(64, "flint-raid-b-")];
  });
  afterEach(() => {
    if (existsSync(`/dev/md/${name}`)) sh("mdadm", ["--stop", `/dev/md/${name}`]);
    for (const d of disks) d.destroy();
  });

  it("creates a RAID1 over two loop devices, puts a filesystem on it, and keeps it on a second run", async function () {
    if (!kernelHas("md")) this.skip(); // this host's kernel has no md driver; the initramfs kernel has it
    const config = storageConfig({
      raid: [{ name, level: "raid1", devices: disks.map((d) => d.device), options: ["--metadata=1.2", "--assume-clean"] }],
      filesystems: [{ device: `/dev/md/${name}`, format: "ext4", label: "mirror" }],
    });
    await runStage(config);
    const detail = sh("mdadm", ["--detail", "--export", `/dev/md/${name}`]);
    assert.match(detail, /MD_LEVEL=raid1/);
    assert.match(detail, /MD_DEVICES=2/);
    for (const d of disks) assert.equal(blkid(d.device).TYPE, "linux_raid_member");
    assert.equal(blkid(`/dev/md/${name}`).LABEL, "mirror");
    const actions = await runStage(config);
    assert.deepEqual(actions.map((a) => a.detail), ["reuse existing", "reuse existing ext4"]);
  });
});
