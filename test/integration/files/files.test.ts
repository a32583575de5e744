import { strict as assert } from "node:assert";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { applyConfig, applyFailure, dataUrl, V, useCapturedLog } from "./run";

const mode = (p: string): number => lstatSync(p).mode & 0o7777;

describe("files stage: directories, files and links", () => {
  useCapturedLog();
  const t = useTempRoot();

  it("writes a file with the default mode 0644, owned by root, parents created root:root 0755", async () => {
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/opt/app/conf/motd", contents: { source: "data:,hello%0A" } }] } });
    const file = join(t.root, "opt/app/conf/motd");
    assert.equal(readFileSync(file, "utf8"), "hello\n");
    assert.equal(mode(file), 0o644);
    assert.equal(statSync(file).uid, 0);
    for (const dir of ["opt", "opt/app", "opt/app/conf"]) {
      assert.equal(mode(join(t.root, dir)), 0o755, dir);
      assert.equal(statSync(join(t.root, dir)).uid, 0, dir);
      assert.equal(statSync(join(t.root, dir)).gid, 0, dir);
    }
  });

  it("applies an explicit mode, including setuid (spec 3.6.0), and owners by id", async () => {
    await applyConfig(t.root, {
      ignition: { version: "3.6.0" },
      storage: { files: [{ path: "/usr/local/bin/tool", mode: 0o4750, user: { id: 1234 }, group: { id: 4321 }, contents: { source: dataUrl("#!/bin/sh\n") } }] },
    });
    const file = join(t.root, "usr/local/bin/tool");
    assert.equal(mode(file), 0o4750);
    assert.deepEqual([statSync(file).uid, statSync(file).gid], [1234, 4321]);
  });

  it("masks setuid, setgid and sticky bits off before spec 3.6.0, as Ignition 2.26 does", async () => {
    await applyConfig(t.root, {
      ignition: { version: "3.5.0" },
      storage: { files: [{ path: "/usr/local/bin/old", mode: 0o6755, contents: { source: dataUrl("#!/bin/sh\n") } }], directories: [{ path: "/srv/shared", mode: 0o1777 }] },
    });
    assert.equal(mode(join(t.root, "usr/local/bin/old")), 0o755);
    assert.equal(mode(join(t.root, "srv/shared")), 0o777);
  });

  it("looks owners up by name in the root's /etc/passwd and /etc/group, after creating the config's users", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      passwd: { users: [{ name: "app", uid: 1500, noCreateHome: true }], groups: [{ name: "appgrp", gid: 2500 }] },
      storage: {
        files: [{ path: "/srv/a", contents: { source: "data:,a" }, user: { name: "app" }, group: { name: "appgrp" } }],
        directories: [{ path: "/srv/d", user: { name: "bin" }, group: { name: "wheel" } }],
      },
    });
    assert.deepEqual([statSync(join(t.root, "srv/a")).uid, statSync(join(t.root, "srv/a")).gid], [1500, 2500]);
    // bin is uid 1 and wheel gid 10 in the root, whatever the host says.
    assert.deepEqual([statSync(join(t.root, "srv/d")).uid, statSync(join(t.root, "srv/d")).gid], [1, 10]);
  });

  it("fails clearly when an owner name is not in the root", async () => {
    const err = await applyFailure(t.root, { ignition: { version: V }, storage: { files: [{ path: "/x", user: { name: "ghost" } }] } });
    assert.match(err, /^test: storage\.files\.0\.user\.name \(line 1, column \d+\), file \/x: user "ghost" does not exist in the root's \/etc\/passwd/);
    assert.equal(existsSync(join(t.root, "x")), false);
  });

  it("creates an empty file when there is no source", async () => {
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/var/empty-file" }] } });
    assert.equal(readFileSync(join(t.root, "var/empty-file"), "utf8"), "");
  });

  it("refuses to replace a file with other contents unless overwrite is true", async () => {
    writeFileSync(join(t.root, "etc/hostname"), "old\n");
    const config = (overwrite?: boolean) => ({ ignition: { version: V }, storage: { files: [{ path: "/etc/hostname", overwrite, contents: { source: "data:,new%0A" } }] } });
    assert.match(await applyFailure(t.root, config()), /^test: storage\.files\.0 \(line 1, column \d+\), file \/etc\/hostname: \/etc\/hostname already exists with other contents \(set overwrite: true/);
    assert.equal(readFileSync(join(t.root, "etc/hostname"), "utf8"), "old\n");
    assert.deepEqual(snapshotTree(join(t.root, "etc")).filter((l) => l.includes(".flint-tmp-")), []);
    await applyConfig(t.root, config(true));
    assert.equal(readFileSync(join(t.root, "etc/hostname"), "utf8"), "new\n");
  });

  it("accepts an existing file that already holds the same contents", async () => {
    writeFileSync(join(t.root, "etc/hostname"), "same\n", { mode: 0o600 });
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/hostname", contents: { source: "data:,same%0A" } }] } });
    assert.equal(mode(join(t.root, "etc/hostname")), 0o644);
  });

  it("keeps an existing file (and its mode) when there is no source, changing only what is asked", async () => {
    writeFileSync(join(t.root, "etc/keep"), "keep me\n", { mode: 0o640 });
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/keep", group: { id: 10 } }] } });
    assert.equal(readFileSync(join(t.root, "etc/keep"), "utf8"), "keep me\n");
    assert.equal(mode(join(t.root, "etc/keep")), 0o640);
    assert.equal(statSync(join(t.root, "etc/keep")).gid, 10);
  });

  it("appends every fragment, to new contents and to an existing file", async () => {
    writeFileSync(join(t.root, "etc/existing"), "line1\n");
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: {
        files: [
          { path: "/etc/new", contents: { source: "data:,base%0A" }, append: [{ source: "data:,more%0A" }, { source: dataUrl("last\n") }] },
          { path: "/etc/existing", append: [{ source: "data:,line2%0A" }] },
        ],
      },
    });
    assert.equal(readFileSync(join(t.root, "etc/new"), "utf8"), "base\nmore\nlast\n");
    assert.equal(readFileSync(join(t.root, "etc/existing"), "utf8"), "line1\nline2\n");
  });

  it("keeps 2.x semantics through translation: files are overwritten, append: true appends", async () => {
    writeFileSync(join(t.root, "etc/hostname"), "old\n");
    writeFileSync(join(t.root, "etc/log"), "one\n");
    await applyConfig(t.root, {
      ignition: { version: "2.2.0" },
      storage: {
        files: [
          { filesystem: "root", path: "/etc/hostname", contents: { source: "data:,new%0A" }, mode: 420 },
          { filesystem: "root", path: "/etc/log", contents: { source: "data:,two%0A" }, append: true, mode: 420 },
        ],
      },
    });
    assert.equal(readFileSync(join(t.root, "etc/hostname"), "utf8"), "new\n");
    assert.equal(readFileSync(join(t.root, "etc/log"), "utf8"), "one\ntwo\n");
  });

  it("checks verification hashes and decompresses gzip contents", async () => {
    const { gzipSync } = await import("node:zlib");
    const { createHash } = await import("node:crypto");
    const body = "compressed body\n";
    const hash = `sha256-${createHash("sha256").update(body).digest("hex")}`;
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: { files: [{ path: "/etc/z", contents: { source: dataUrl(gzipSync(body)), compression: "gzip", verification: { hash } } }] },
    });
    assert.equal(readFileSync(join(t.root, "etc/z"), "utf8"), body);
    const bad = await applyFailure(t.root, {
      ignition: { version: V },
      storage: { files: [{ path: "/etc/bad", contents: { source: "data:,x", verification: { hash: `sha256-${"0".repeat(64)}` } } }] },
    });
    assert.match(bad, /storage\.files\.0\.contents/);
    assert.equal(existsSync(join(t.root, "etc/bad")), false);
    assert.deepEqual(readdirSync(join(t.root, "etc")).filter((n) => n.includes("flint")), [], "a temporary file was left behind");
  });

  it("makes directories with the default mode 0755 or the one asked, and only re-moded when they exist", async () => {
    mkdirSync(join(t.root, "var/lib/old"), { recursive: true, mode: 0o700 });
    writeFileSync(join(t.root, "var/lib/old/inside"), "kept");
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: { directories: [{ path: "/var/lib/new" }, { path: "/var/lib/private", mode: 0o700 }, { path: "/var/lib/old", mode: 0o750 }] },
    });
    assert.equal(mode(join(t.root, "var/lib/new")), 0o755);
    assert.equal(mode(join(t.root, "var/lib/private")), 0o700);
    assert.equal(mode(join(t.root, "var/lib/old")), 0o750);
    assert.equal(readFileSync(join(t.root, "var/lib/old/inside"), "utf8"), "kept");
  });

  it("refuses to turn a file into a directory without overwrite", async () => {
    writeFileSync(join(t.root, "etc/thing"), "file");
    assert.match(await applyFailure(t.root, { ignition: { version: V }, storage: { directories: [{ path: "/etc/thing" }] } }), /\/etc\/thing exists and is not a directory/);
    await applyConfig(t.root, { ignition: { version: V }, storage: { directories: [{ path: "/etc/thing", overwrite: true }] } });
    assert.ok(lstatSync(join(t.root, "etc/thing")).isDirectory());
  });

  it("creates symbolic links as written and hard links to the same inode, after their targets", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: {
        links: [
          { path: "/etc/hard", target: "/etc/deep/target", hard: true },
          { path: "/etc/localtime", target: "/usr/share/zoneinfo/UTC" },
        ],
        files: [{ path: "/etc/deep/target", mode: 0o640, user: { id: 1500 }, group: { id: 2500 }, contents: { source: "data:,t" } }],
      },
    });
    assert.equal(readlinkSync(join(t.root, "etc/localtime")), "/usr/share/zoneinfo/UTC");
    const [hard, target] = [lstatSync(join(t.root, "etc/hard")), lstatSync(join(t.root, "etc/deep/target"))];
    assert.ok(hard.isFile(), "the hard link is a regular file, not a symlink");
    assert.equal(hard.ino, target.ino);
    // One inode, two names; making the link kept the target's owner and mode as the config set them.
    assert.deepEqual([target.nlink, target.mode & 0o7777, target.uid, target.gid], [2, 0o640, 1500, 2500]);
    assert.equal(readFileSync(join(t.root, "etc/hard"), "utf8"), "t");
  });

  it("leaves a matching link alone and refuses a different one without overwrite", async () => {
    const cfg = (target: string, overwrite?: boolean) => ({ ignition: { version: V }, storage: { links: [{ path: "/etc/l", target, overwrite }] } });
    await applyConfig(t.root, cfg("/a"));
    await applyConfig(t.root, cfg("/a"));
    assert.match(await applyFailure(t.root, cfg("/b")), /\/etc\/l already exists \(set overwrite: true/);
    await applyConfig(t.root, cfg("/b", true));
    assert.equal(readlinkSync(join(t.root, "etc/l")), "/b");
  });

  it("replaces a symlink at a file's path instead of writing through it", async () => {
    writeFileSync(join(t.root, "etc/real"), "real\n");
    const { symlinkSync } = await import("node:fs");
    symlinkSync("/etc/real", join(t.root, "etc/pointer"));
    await applyConfig(t.root, { ignition: { version: V }, storage: { files: [{ path: "/etc/pointer", overwrite: true, contents: { source: "data:,mine" } }] } });
    assert.ok(lstatSync(join(t.root, "etc/pointer")).isFile());
    assert.equal(readFileSync(join(t.root, "etc/real"), "utf8"), "real\n");
  });
});
