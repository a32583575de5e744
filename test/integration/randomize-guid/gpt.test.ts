// agent/devices/gpt.ts against the real sgdisk: the disk GUID change and the
// backup moved to the end of a grown disk must leave the same bytes as
// `sgdisk --move-second-header --disk-guid=G` (512-byte sectors in image
// files, 4096-byte sectors on a loop device), and a damaged table is left alone.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDiskGuid, setDiskGuid } from "../../../agent/devices/gpt";
import { sh } from "../../helpers/loop";

const PLACEHOLDER = "00000000-0000-0000-0000-000000000001";
const NEW = "3f2a9c1e-7b44-4d1a-9e0f-5a6b7c8d9e01";

describe("GPT disk GUID, written by Flint", () => {
  let dir: string;
  const loops: string[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-gpt-boot-"));
  });
  afterEach(() => {
    while (loops.length) sh("losetup", ["-d", loops.pop()!]);
    rmSync(dir, { recursive: true, force: true });
  });

  function image(name: string, mib: number): string {
    const file = join(dir, name);
    writeFileSync(file, "");
    truncateSync(file, mib << 20);
    sh("sgdisk", ["-o", "-U", PLACEHOLDER, "-n", "1:2048:+8M", "-t", "1:EF00", "-c", "1:EFI-SYSTEM", "-n", "6:0:+8M", "-c", "6:OEM", "-n", "9:0:0", "-c", "9:ROOT", file]);
    return file;
  }

  /** Runs sgdisk on one copy and Flint on another; returns both copies' bytes. */
  async function bothWays(original: string, device: (file: string) => string = (f) => f): Promise<[Buffer, Buffer]> {
    const bySgdisk = join(dir, "sgdisk.img");
    const byFlint = join(dir, "flint.img");
    copyFileSync(original, bySgdisk);
    copyFileSync(original, byFlint);
    // sgdisk warns that the kernel keeps the old table (an image file has none): not an error here.
    execFileSync("sgdisk", ["--move-second-header", `--disk-guid=${NEW}`, device(bySgdisk)], { stdio: "ignore" });
    await setDiskGuid(device(byFlint), NEW);
    return [readFileSync(bySgdisk), readFileSync(byFlint)];
  }

  it("reads the disk GUID of an image and of nothing", async () => {
    assert.equal(await readDiskGuid(image("a.img", 64)), PLACEHOLDER);
    const blank = join(dir, "blank.img");
    writeFileSync(blank, Buffer.alloc(1 << 20));
    assert.equal(await readDiskGuid(blank), undefined);
    assert.equal(await readDiskGuid(join(dir, "missing.img")), undefined);
  });

  it("writes what sgdisk writes on a disk of the image's size", async () => {
    const [bySgdisk, byFlint] = await bothWays(image("a.img", 64));
    assert.ok(bySgdisk.equals(byFlint), "the images differ");
    assert.equal(await readDiskGuid(join(dir, "flint.img")), NEW);
  });

  it("writes what sgdisk writes on a disk larger than the image: backup at the end, protective MBR grown", async () => {
    const grown = image("a.img", 64);
    truncateSync(grown, 96 << 20);
    const [bySgdisk, byFlint] = await bothWays(grown);
    assert.ok(bySgdisk.equals(byFlint), "the images differ");
    assert.match(sh("sgdisk", ["--verify", join(dir, "flint.img")]), /No problems found/);
  });

  it("writes what sgdisk writes with 4096-byte sectors", async () => {
    const file = join(dir, "4k.img");
    writeFileSync(file, "");
    truncateSync(file, 64 << 20);
    const loop = sh("losetup", ["-f", "--show", "-b", "4096", file]).trim();
    loops.push(loop);
    sh("sgdisk", ["-o", "-U", PLACEHOLDER, "-n", "1:0:+8M", "-n", "9:0:0", loop]);
    sh("losetup", ["-d", loops.pop()!]);
    truncateSync(file, 96 << 20);
    const attach = (f: string) => {
      const l = sh("losetup", ["-f", "--show", "-b", "4096", f]).trim();
      loops.push(l);
      return l;
    };
    const [bySgdisk, byFlint] = await bothWays(file, attach);
    assert.ok(bySgdisk.equals(byFlint), "the images differ");
  });

  it("refuses a table whose partition entries fail their CRC, and writes nothing", async () => {
    const file = image("a.img", 64);
    const bytes = readFileSync(file);
    bytes[1024 + 32] = bytes[1024 + 32]! ^ 0xff; // the first entry's start sector, in the primary entries
    writeFileSync(file, bytes);
    await assert.rejects(setDiskGuid(file, NEW), /do not match their CRC/);
    assert.ok(readFileSync(file).equals(bytes), "the image changed");
  });
});
