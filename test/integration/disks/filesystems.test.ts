// The disks stage's filesystems on real loop devices: every format with its
// label and uuid, and Ignition's reuse rules checked with a file written
// on the filesystem beforehand.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Filesystem } from "../../../agent/config/types";
import { FlintError } from "../../../agent/errors";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { blkid, runStage, storageConfig } from "./helpers";

const UUIDS = {
  ext4: "0e1f6a3c-1111-4a5b-8c9d-000000000001",
  xfs: "0e1f6a3c-2222-4a5b-8c9d-000000000002",
  btrfs: "0e1f6a3c-3333-4a5b-8c9d-000000000003",
  swap: "0e1f6a3c-5555-4a5b-8c9d-000000000005",
};

describe("disks stage: filesystems", () => {
  describe("every format", () => {
    let disk: LoopDisk;
    before(async () => {
      disk = createLoopDisk(640, "flint-fs-formats-");
      const filesystems: Filesystem[] = [
        { device: disk.partition(1), format: "ext4", label: "flint-ext4", uuid: UUIDS.ext4 },
        { device: disk.partition(2), format: "xfs", label: "flint-xfs", uuid: UUIDS.xfs },
        { device: disk.partition(3), format: "btrfs", label: "flint-btrfs", uuid: UUIDS.btrfs },
        { device: disk.partition(4), format: "vfat", label: "FLINT-VFAT", uuid: "1a2b-3c4d" },
        { device: disk.partition(5), format: "swap", label: "flint-swap", uuid: UUIDS.swap },
        { device: disk.partition(6), format: "none" },
      ];
      await runStage(
        storageConfig({
          disks: [
            {
              device: disk.device,
              partitions: [
                { number: 1, sizeMiB: 32 },
                { number: 2, sizeMiB: 300 },
                { number: 3, sizeMiB: 128 },
                { number: 4, sizeMiB: 40 },
                { number: 5, sizeMiB: 16 },
                { number: 6, sizeMiB: 8 },
              ],
            },
          ],
          filesystems,
        }),
      );
    });
    after(() => disk?.destroy());

    for (const [n, type, label, uuid] of [
      [1, "ext4", "flint-ext4", UUIDS.ext4],
      [2, "xfs", "flint-xfs", UUIDS.xfs],
      [3, "btrfs", "flint-btrfs", UUIDS.btrfs],
      [4, "vfat", "FLINT-VFAT", "1A2B-3C4D"],
      [5, "swap", "flint-swap", UUIDS.swap],
    ] as const) {
      it(`makes ${type} with the requested label and uuid`, () => {
        const found = blkid(disk.partition(n));
        assert.equal(found.TYPE, type);
        assert.equal(found.LABEL, label);
        assert.equal(found.UUID, uuid);
      });
    }

    it("leaves a format none device without any signature", () => {
      const found = blkid(disk.partition(6));
      assert.equal(found.TYPE, undefined);
      assert.equal(found.PART_ENTRY_NUMBER, "6", "the partition itself is there");
    });
  });

  describe("reuse and wipe", () => {
    let disk: LoopDisk;
    let mnt: string;
    const fs = (extra: Partial<Filesystem> = {}) => storageConfig({ filesystems: [{ device: disk.device, format: "ext4", label: "data", ...extra }] });

    function writeMarker(): void {
      sh("mount", [disk.device, mnt]);
      try {
        writeFileSync(join(mnt, "marker"), "written before");
      } finally {
        sh("umount", [mnt]);
      }
    }
    function readMarker(): string | undefined {
      sh("mount", ["-o", "ro", disk.device, mnt]);
      try {
        return existsSync(join(mnt, "marker")) ? readFileSync(join(mnt, "marker"), "utf8") : undefined;
      } finally {
        sh("umount", [mnt]);
      }
    }

    beforeEach(async () => {
      disk = createLoopDisk(64, "flint-fs-reuse-");
      mnt = mkdtempSync(join(tmpdir(), "flint-fs-mnt-"));
      await runStage(fs({ uuid: UUIDS.ext4 }));
      writeMarker();
    });
    afterEach(() => {
      if (mnt) {
        spawnUmount(mnt);
        rmSync(mnt, { recursive: true, force: true });
      }
      disk?.destroy();
    });

    it("reuses an ext4 filesystem whose label and uuid match when wipeFilesystem is false", async () => {
      const actions = await runStage(fs({ uuid: UUIDS.ext4 }));
      assert.deepEqual(actions, [{ kind: "mkfs", target: disk.device, detail: "reuse existing ext4" }]);
      assert.equal(readMarker(), "written before");
    });

    it("reuses it when the config gives neither label nor uuid", async () => {
      await runStage(storageConfig({ filesystems: [{ device: disk.device, format: "ext4" }] }));
      assert.equal(readMarker(), "written before");
    });

    it("makes a new filesystem with wipeFilesystem, losing the old contents", async () => {
      await runStage(fs({ wipeFilesystem: true, label: "fresh" }));
      assert.equal(blkid(disk.device).LABEL, "fresh");
      assert.notEqual(blkid(disk.device).UUID, UUIDS.ext4);
      assert.equal(readMarker(), undefined);
    });

    it("fails on a filesystem of another format without wipeFilesystem, and keeps it", async () => {
      await assert.rejects(runStage(storageConfig({ filesystems: [{ device: disk.device, format: "xfs" }] })), (e: unknown) => {
        assert.ok(e instanceof FlintError);
        assert.match(e.message, /cannot reuse the filesystem on \/dev\/loop\d+: it holds ext4, not xfs; set wipeFilesystem/);
        assert.equal(e.where, "storage.filesystems.0");
        return true;
      });
      assert.equal(readMarker(), "written before");
    });

    it("fails when the label differs without wipeFilesystem", async () => {
      await assert.rejects(runStage(fs({ label: "other" })), /its label is "data", not "other"/);
      assert.equal(readMarker(), "written before");
    });

    it("reports a failing mkfs by its one-line reason and the command", async () => {
      await assert.rejects(runStage(fs({ format: "xfs", wipeFilesystem: true })), (e: unknown) => {
        assert.ok(e instanceof FlintError);
        assert.equal(e.message, "mkfs.xfs failed (exit status 1): Filesystem must be larger than 300MB.");
        assert.match(e.where ?? "", /^mkfs\.xfs -f -L data -- \/dev\/loop\d+$/);
        return true;
      });
    });

    it("fails for format none on a device that holds a filesystem, and wipes it with wipeFilesystem", async () => {
      await assert.rejects(runStage(storageConfig({ filesystems: [{ device: disk.device, format: "none" }] })), /already holds ext4 and the format is none/);
      await runStage(storageConfig({ filesystems: [{ device: disk.device, format: "none", wipeFilesystem: true }] }));
      assert.deepEqual(blkid(disk.device), {});
    });
  });
});

function spawnUmount(dir: string): void {
  try {
    sh("umount", [dir]);
  } catch {
    /* not mounted: the normal case */
  }
}
