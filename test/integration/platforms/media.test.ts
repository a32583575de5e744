import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { withMedia } from "../../../agent/platforms/media";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";

describe("local media (OEM partition, config drive) on a real loop device", () => {
  let disk: LoopDisk | undefined;
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-media-test-"));
  });
  afterEach(() => {
    disk?.destroy();
    disk = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const mountedHere = (path: string) => readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === path);

  it("mounts the device read-only while in use, then unmounts it and removes the mount point", async () => {
    mkdirSync(join(dir, "content/base"), { recursive: true });
    writeFileSync(join(dir, "content/config.ign"), "from the OEM partition");
    disk = createLoopDisk(16, "flint-oem-");
    sh("mkfs.ext4", ["-q", "-L", "OEM", "-d", join(dir, "content"), disk.device]);
    let seenAt = "";
    const text = await withMedia({ device: disk.device, fallback: join(dir, "unused") }, async (at) => {
      seenAt = at;
      assert.ok(mountedHere(at), "mounted during use");
      assert.throws(() => writeFileSync(join(at, "new"), "x"), /EROFS/);
      return readFileSync(join(at, "config.ign"), "utf8");
    });
    assert.equal(text, "from the OEM partition");
    assert.equal(mountedHere(seenAt), false);
    assert.deepEqual(readdirSync(tmpdir()).filter((n) => join(tmpdir(), n) === seenAt), []);
  });

  it("unmounts even when the reader fails", async () => {
    disk = createLoopDisk(16, "flint-oem-");
    sh("mkfs.ext4", ["-q", "-L", "OEM", disk.device]);
    let seenAt = "";
    await assert.rejects(withMedia({ device: disk.device, fallback: dir }, async (at) => {
      seenAt = at;
      throw new Error("reader failed");
    }), /reader failed/);
    assert.equal(mountedHere(seenAt), false);
  });

  it("reads the fallback directory when the device does not exist", async () => {
    const seen = await withMedia({ device: join(dir, "no-such-device"), fallback: dir }, async (at) => at);
    assert.equal(seen, dir);
  });
});
