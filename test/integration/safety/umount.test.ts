// Issue 10, case 5: the umount stage unmounts only what this run mounted, in
// reverse order. A path already mounted from the config's device is left
// mounted; one mounted from another device (a bind mount included) is an
// error naming both; `path: "/"` never unmounts the root. Real ext4 loop
// devices; the canary and everything beside the root are checked each time.

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openOrCreateDirectory } from "../../../agent/root/write";
import { mountOnDirectory } from "../../../agent/system/mount";
import { createLoopDisk, type LoopDisk } from "../../helpers/loop";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";
import { buildBundle, FLINT } from "../../helpers/bundle";


/** The mounts at `path` and under it, as "mountpoint source" lines, in the kernel's order. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" "))
    .filter((f) => f[4] === dir || f[4]!.startsWith(dir + "/"))
    .map((f) => `${f[4]} ${f[2]}`);
}

function majorMinor(device: string): string {
  const rdev = statSync(device).rdev;
  return `${Math.floor(rdev / 256) & 0xfff}:${(rdev & 0xff) | ((rdev >> 12) & ~0xff)}`;
}

describe("safety: umount undoes only this run's mounts", function () {
  this.timeout(120_000);
  let t: TempRoot;
  let a: LoopDisk;
  let b: LoopDisk;
  let outsideBefore: string[];
  const outside = () => snapshotTree(t.dir, { ignore: (rel) => rel === "root" || rel.startsWith("root/") });

  before(buildBundle);
  beforeEach(() => {
    t = makeTempRoot("flint-safety-tools-root-");
    a = createLoopDisk(32, "flint-safety-tools-mnt-");
    b = createLoopDisk(32, "flint-safety-tools-mnt-");
    for (const d of [a, b]) execFileSync("mkfs.ext4", ["-q", "-F", d.device]);
    mkdirSync(join(t.dir, "elsewhere"));
    writeFileSync(join(t.dir, "elsewhere/keep"), "keep\n");
    outsideBefore = outside();
  });
  afterEach(() => {
    // Deepest first, whatever a failed test left.
    for (const line of mountsUnder(t.dir).reverse()) spawnSync("umount", [line.split(" ")[0]!]);
    a.destroy();
    b.destroy();
    try {
      assert.deepEqual(snapshotTree(t.canary), t.canaryBefore, "the canary changed");
      assert.deepEqual(outside(), outsideBefore, "something beside the root changed");
    } finally {
      t.cleanup();
    }
  });

  function flint(stage: string[], filesystems: object[]): { code: number | null; stderr: string } {
    const config = join(t.dir, "config.json");
    writeFileSync(config, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { filesystems } }));
    const r = spawnSync(process.execPath, [FLINT, ...stage, "--root", t.root, ...(stage[0] === "apply" ? ["--config", config] : ["--cache", config])], { encoding: "utf8" });
    outsideBefore = outside(); // the config file itself is ours
    assert.doesNotMatch(r.stderr, /\n\s+at /, "a stack trace");
    return { code: r.status, stderr: r.stderr };
  }

  it("leaves a filesystem already mounted from the config's device mounted", () => {
    mkdirSync(join(t.root, "data"));
    execFileSync("mount", [a.device, join(t.root, "data")]);
    const r = flint(["apply"], [{ device: a.device, format: "ext4", path: "/data" }]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\/data is already mounted from .*; leaving it, and it will not be unmounted/);
    assert.deepEqual(mountsUnder(t.root), [`${join(t.root, "data")} ${majorMinor(a.device)}`]);
  });

  it("fails, naming both devices and the entry, when the path is mounted from another device, and unmounts nothing", () => {
    mkdirSync(join(t.root, "data"));
    execFileSync("mount", [a.device, join(t.root, "data")]);
    const r = flint(["apply"], [{ device: b.device, format: "ext4", path: "/data" }]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`storage\\.filesystems\\.0\\.path\\b.*: /data is already mounted with ${a.device} \\(${majorMinor(a.device)}\\), not with ${b.device} \\(${majorMinor(b.device)}\\)`));
    assert.deepEqual(mountsUnder(t.root), [`${join(t.root, "data")} ${majorMinor(a.device)}`]);
  });

  it("fails on a bind mount of another directory at the path, and leaves it", () => {
    mkdirSync(join(t.root, "data"));
    execFileSync("mount", ["--bind", join(t.dir, "elsewhere"), join(t.root, "data")]);
    const before = mountsUnder(t.root);
    const r = flint(["apply"], [{ device: a.device, format: "ext4", path: "/data" }]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`/data is already mounted with .* not with ${a.device} \\(${majorMinor(a.device)}\\)`));
    assert.deepEqual(mountsUnder(t.root), before);
    assert.equal(readFileSync(join(t.root, "data/keep"), "utf8"), "keep\n");
  });

  it("never unmounts the root for path \"/\": same device is left, another device is an error", () => {
    execFileSync("mount", [a.device, t.root]);
    const r = flint(["apply"], [{ device: a.device, format: "ext4", path: "/" }]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(mountsUnder(t.root), [`${t.root} ${majorMinor(a.device)}`]);
    const other = flint(["apply"], [{ device: b.device, format: "ext4", path: "/" }]);
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stderr, /storage\.filesystems\.0\.path\b.*: \/ is already mounted with/);
    assert.deepEqual(mountsUnder(t.root), [`${t.root} ${majorMinor(a.device)}`]);
  });

  it("the umount stage alone leaves what another mounted, even at a path the config names", () => {
    mkdirSync(join(t.root, "var"));
    execFileSync("mount", [a.device, join(t.root, "var")]);
    const r = flint(["umount"], [{ device: a.device, format: "ext4", path: "/var" }]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(mountsUnder(t.root), [`${join(t.root, "var")} ${majorMinor(a.device)}`]);
  });

  it("unmounts its own mounts in reverse order, but not one stacked on its mount since", () => {
    const fss = [
      { device: a.device, format: "ext4", path: "/var" },
      { device: b.device, format: "ext4", path: "/var/lib" },
    ];
    assert.equal(flint(["mount"], fss).code, 0);
    assert.deepEqual(mountsUnder(t.root), [`${join(t.root, "var")} ${majorMinor(a.device)}`, `${join(t.root, "var/lib")} ${majorMinor(b.device)}`]);
    // Someone else mounts over /var/lib after the mount stage.
    execFileSync("mount", ["--bind", join(t.dir, "elsewhere"), join(t.root, "var/lib")]);
    const r = flint(["umount"], fss);
    assert.equal(r.code, 1, r.stderr); // /var is busy: /var/lib is still mounted on it
    assert.match(r.stderr, /\/var\/lib is no longer the mount Flint made there; leaving it/);
    assert.equal(mountsUnder(t.root).length, 3);
    // Once the stranger's mount is gone, the record still says what to undo: children first.
    execFileSync("umount", [join(t.root, "var/lib")]);
    const again = flint(["umount"], fss);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(mountsUnder(t.root), []);
  });

  it("mounts on the directory it opened, even when that path is swapped for a symlink to outside before mount runs", async () => {
    const dir = openOrCreateDirectory(t.root, "/data")!;
    try {
      // The swap: the opened directory moves away, a symlink to outside the root takes its name.
      renameSync(join(t.root, "data"), join(t.root, "moved"));
      symlinkSync(join(t.dir, "elsewhere"), join(t.root, "data"));
      await mountOnDirectory(a.device, dir.fd, "ext4");
    } finally {
      dir.close();
    }
    assert.deepEqual(mountsUnder(t.root), [`${join(t.root, "moved")} ${majorMinor(a.device)}`]);
    assert.deepEqual(mountsUnder(join(t.dir, "elsewhere")), []);
    outsideBefore = outside(); // the symlink in the root is the test's own
  });
});
