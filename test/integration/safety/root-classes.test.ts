// Issue 23's classes about the root, one test each, with the bundled
// `flint apply` on a scratch root and a canary beside it: hard links that
// lead out (class 2), mounts that are not this run's (class 3), and the
// smaller ones (class 8: a path of 4,080 characters, a tree 5,000 deep
// emptied by overwrite, an immutable directory named as the config names it).
// Class 1 (everything written through the descriptor it was created with)
// is test/unit/root/batch.test.ts's "a staged file…".

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBundle, FLINT } from "../../helpers/bundle";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { makeTempRoot, mountsUnder, snapshotTree, type TempRoot } from "../../helpers/root";

function apply(t: TempRoot, storage: object): { code: number | null; out: string } {
  const file = join(t.dir, "config.json");
  writeFileSync(file, JSON.stringify({ ignition: { version: "3.6.0" }, storage }));
  const r = spawnSync(process.execPath, [FLINT, "apply", "--config", file, "--root", t.root], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, out: r.stdout + r.stderr };
}


describe("safety: the root's hard links, mounts and limits (issue 23)", function () {
  this.timeout(120_000);
  let t: TempRoot;
  before(() => buildBundle());
  beforeEach(() => {
    t = makeTempRoot("flint-root-classes-");
  });
  afterEach(() => {
    for (const m of mountsUnder(t.dir).reverse()) spawnSync("umount", ["-l", m]);
    try {
      assert.deepEqual(snapshotTree(t.canary), t.canaryBefore, "the canary changed");
    } finally {
      spawnSync("chattr", ["-R", "-i", t.dir]);
      spawnSync("rm", ["-rf", "--", t.dir]);
    }
  });

  it("class 2: never changes an inode it shares with a file outside the root (mode, owner, same contents)", () => {
    const victim = join(t.canary, "victim");
    writeFileSync(victim, "same\n", { mode: 0o600 });
    const victimLink = join(t.canary, "victim-link");
    symlinkSync("/nowhere", victimLink);
    t.canaryBefore = snapshotTree(t.canary);
    mkdirSync(join(t.root, "srv"));
    linkSync(victim, join(t.root, "srv/meta"));
    linkSync(victim, join(t.root, "srv/same"));
    linkSync(victimLink, join(t.root, "srv/link"));
    const r = apply(t, {
      files: [
        { path: "/srv/meta", mode: 0o4777, user: { id: 1000 }, group: { id: 1000 } },
        { path: "/srv/same", mode: 0o644, contents: { source: "data:,same%0A" } },
      ],
      links: [{ path: "/srv/link", target: "/nowhere", user: { id: 1000 } }],
    });
    assert.equal(r.code, 0, r.out);
    const meta = lstatSync(join(t.root, "srv/meta"));
    assert.deepEqual([meta.mode & 0o7777, meta.uid, meta.gid, meta.nlink], [0o4777, 1000, 1000, 1]);
    assert.equal(readFileSync(join(t.root, "srv/meta"), "utf8"), "same\n", "a copy of the contents");
    assert.equal(lstatSync(join(t.root, "srv/same")).mode & 0o7777, 0o644);
    assert.equal(lstatSync(join(t.root, "srv/link")).uid, 1000);
    // afterEach: the victim's mode, owner and contents are as they were.
  });

  it("class 3: a bind mount inside the root that is not this run's is neither emptied nor written through", () => {
    mkdirSync(join(t.root, "srv/bind"), { recursive: true });
    execFileSync("mount", ["--bind", t.canary, join(t.root, "srv/bind")]);
    const emptied = apply(t, { directories: [{ path: "/srv/bind", overwrite: true }] });
    assert.equal(emptied.code, 1, emptied.out);
    assert.match(emptied.out, /\/srv\/bind: is a mount point|on a mount that is not this run's/);
    const chmod = apply(t, { directories: [{ path: "/srv/bind", mode: 0o700 }] });
    assert.equal(chmod.code, 1, chmod.out);
    assert.match(chmod.out, /\/srv\/bind: is a mount point that is not this run's; refusing to change it/);
    const through = apply(t, { files: [{ path: "/srv/bind/etc/new", contents: { source: "data:,x" } }] });
    assert.equal(through.code, 1, through.out);
    assert.match(through.out, /\/srv\/bind(\/etc)? is on a mount that is not this run's; refusing to write through it/);
    // A missing directory below it is not made there either (afterEach: the canary is unchanged).
    const made = apply(t, { files: [{ path: "/srv/bind/newdir/new", contents: { source: "data:,x" } }] });
    assert.equal(made.code, 1, made.out);
    assert.match(made.out, /\/srv\/bind is on a mount that is not this run's; refusing to write through it/);
  });

  describe("with a loop disk", () => {
    let disk: LoopDisk;
    beforeEach(() => {
      disk = createLoopDisk(16, "flint-root-classes-disk-");
      sh("mkfs.ext4", ["-q", "-F", disk.device]);
    });
    afterEach(() => disk.destroy());

    it("class 3: a symlink /var -> / never makes the root itself a mount point", () => {
      symlinkSync("/", join(t.root, "var"));
      const r = apply(t, { filesystems: [{ device: disk.device, format: "ext4", path: "/var" }] });
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, /\/var leads to the root itself .*refusing to mount over it/);
      assert.deepEqual(mountsUnder(t.root), []);
    });

    it("class 3: never mounts below a bind mount that is not this run's (nor through a symlink into it); a filesystem nested in the config's own is mounted", () => {
      mkdirSync(join(t.root, "srv/bind"), { recursive: true });
      execFileSync("mount", ["--bind", t.canary, join(t.root, "srv/bind")]);
      const below = apply(t, { filesystems: [{ device: disk.device, format: "ext4", path: "/srv/bind/data" }] });
      assert.equal(below.code, 1, below.out);
      assert.match(below.out, /\/srv\/bind\/data: \/srv\/bind is on a mount that is not this run's; refusing to write through it/);
      const existing = apply(t, { filesystems: [{ device: disk.device, format: "ext4", path: "/srv/bind/etc" }] });
      assert.equal(existing.code, 1, existing.out);
      assert.match(existing.out, /\/srv\/bind\/etc: lies on a mount that is not this run's; refusing to mount there/);
      symlinkSync("/srv/bind", join(t.root, "data"));
      const through = apply(t, { filesystems: [{ device: disk.device, format: "ext4", path: "/data/sub" }] });
      assert.equal(through.code, 1, through.out);
      assert.match(through.out, /\/data\/sub: \/srv\/bind is on a mount that is not this run's/);
      symlinkSync("/srv/bind/etc", join(t.root, "etc-link"));
      const existingThrough = apply(t, { filesystems: [{ device: disk.device, format: "ext4", path: "/etc-link" }] });
      assert.equal(existingThrough.code, 1, existingThrough.out);
      assert.match(existingThrough.out, /\/etc-link: \(resolved in the root as \/srv\/bind\/etc\) lies on a mount that is not this run's/);
      assert.deepEqual(mountsUnder(t.root), [join(t.root, "srv/bind")], "only the bind mount");
      execFileSync("umount", [join(t.root, "srv/bind")]);
      const inner = createLoopDisk(16, "flint-root-classes-inner-");
      try {
        sh("mkfs.ext4", ["-q", "-F", inner.device]);
        const nested = apply(t, { filesystems: [{ device: disk.device, format: "ext4", path: "/srv/data" }, { device: inner.device, format: "ext4", path: "/srv/data/inner" }] });
        assert.equal(nested.code, 0, nested.out);
        assert.deepEqual(mountsUnder(t.root), [], "unmounted after");
      } finally {
        inner.destroy();
      }
    });

    it("class 3: writes through the config's own filesystem", () => {
      const r = apply(t, { filesystems: [{ device: disk.device, format: "ext4", path: "/data" }], files: [{ path: "/data/x", contents: { source: "data:,x" } }] });
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(mountsUnder(t.root), [], "unmounted after");
    });
  });

  it("class 8: a path of 4,080 characters is written whole (no host path is built from it)", () => {
    const path = "/" + "d/".repeat(2039) + "f";
    assert.equal(path.length, 4080);
    const r = apply(t, { files: [{ path, contents: { source: "data:,deep" } }] });
    assert.equal(r.code, 0, r.out.slice(-500));
    assert.equal(sh("find", [t.root, "-name", "f", "-type", "f"]).trim().split("\n").length, 1);
  });

  it("class 8: empties a tree 5,000 deep (no recursion), and names an immutable directory by its config path", () => {
    // Made one level at a time from inside, as no path to the bottom fits PATH_MAX.
    mkdirSync(join(t.root, "srv/deep"), { recursive: true });
    const make = 'for (let i = 0; i < 5000; i++) { fs.mkdirSync("d"); process.chdir("d"); } fs.writeFileSync("leaf", "x");';
    execFileSync(process.execPath, ["-e", make], { cwd: join(t.root, "srv/deep") });
    const r = apply(t, { directories: [{ path: "/srv/deep", overwrite: true }] });
    assert.equal(r.code, 0, r.out.slice(-500));
    assert.deepEqual(readdirSync(join(t.root, "srv/deep")), []);

    mkdirSync(join(t.root, "etc/locked"));
    chmodSync(join(t.root, "etc/locked"), 0o755);
    execFileSync("chattr", ["+i", join(t.root, "etc/locked")]);
    const locked = apply(t, { files: [{ path: "/etc/locked/app.conf", contents: { source: "data:,x" } }] });
    assert.equal(locked.code, 1, locked.out);
    assert.match(locked.out, /storage\.files\.0\b.*cannot write \/etc\/locked\/app\.conf: EPERM/);
    assert.doesNotMatch(locked.out, /\/proc\/self\/fd/);
    assert.equal(statSync(join(t.root, "etc/locked")).isDirectory(), true);
  });
});
