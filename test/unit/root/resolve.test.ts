import { strict as assert } from "node:assert";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeError } from "../../../agent/errors";
import { readRootText } from "../../../agent/root/read";
import { inspectInRoot, openDirectory, resolveInRoot, withRootHeld } from "../../../agent/root/resolve";
import { makeTempRoot, type TempRoot } from "../../helpers/root";

function failure(work: () => unknown): string {
  try {
    work();
  } catch (e) {
    return describeError(e);
  }
  return "no error";
}

describe("resolving a path inside the root", () => {
  let t: TempRoot;
  beforeEach(() => {
    t = makeTempRoot();
  });
  afterEach(() => t.cleanup());

  it("maps a plain path under the root", async () => {
    assert.equal(resolveInRoot(t.root, "/etc/motd"), join(t.root, "etc/motd"));
    assert.equal(resolveInRoot(t.root, "/"), t.root);
  });

  it("takes an absolute symlink target relative to the root, as in a chroot", async () => {
    symlinkSync("/", join(t.root, "etc/escape"));
    assert.equal(resolveInRoot(t.root, "/etc/escape/etc/motd"), join(t.root, "etc/motd"));
    symlinkSync("/var/lib", join(t.root, "lib-link"));
    assert.equal(resolveInRoot(t.root, "/lib-link/x"), join(t.root, "var/lib/x"));
  });

  it("clamps relative symlinks full of .. at the root", async () => {
    symlinkSync("../../../../../..", join(t.root, "etc/up"));
    assert.equal(resolveInRoot(t.root, "/etc/up/motd"), join(t.root, "motd"));
    assert.equal(resolveInRoot(t.root, "/../../etc"), join(t.root, "etc"));
  });

  it("does not follow the last component unless asked", async () => {
    symlinkSync("/etc/passwd", join(t.root, "pw"));
    const own = await inspectInRoot(t.root, "/pw");
    assert.equal(own.hostPath, join(t.root, "pw"));
    assert.ok(own.stat?.isSymbolicLink());
    const followed = await inspectInRoot(t.root, "/pw", { followLast: true });
    assert.equal(followed.hostPath, join(t.root, "etc/passwd"));
    assert.equal(followed.rootPath, "/etc/passwd");
    assert.ok(followed.stat?.isFile());
  });

  it("follows chains of links and stops a loop with a clear error", async () => {
    symlinkSync("b", join(t.root, "a"));
    symlinkSync("/c", join(t.root, "b"));
    mkdirSync(join(t.root, "c"));
    assert.equal(resolveInRoot(t.root, "/a/file"), join(t.root, "c/file"));
    symlinkSync("loop2", join(t.root, "loop1"));
    symlinkSync("loop1", join(t.root, "loop2"));
    assert.match(failure(() => resolveInRoot(t.root, "/loop1/x")), /too many levels of symbolic links/);
  });

  it("reports missing components as not existing and keeps their names", async () => {
    const r = await inspectInRoot(t.root, "/new/dir/file");
    assert.equal(r.hostPath, join(t.root, "new/dir/file"));
    assert.equal(r.stat, undefined);
  });

  it("refuses a path that goes through a regular file", async () => {
    writeFileSync(join(t.root, "etc/plain"), "x");
    assert.match(failure(() => resolveInRoot(t.root, "/etc/plain/child")), /\/etc\/plain exists and is not a directory/);
  });

  it("refuses a relative path", async () => {
    assert.match(failure(() => resolveInRoot(t.root, "etc/motd")), /must be absolute/);
  });

  it("walks from the root's one descriptor while it is held, and hands a caller who asks for / a descriptor of its own", async () => {
    const openFds = () => readdirSync("/proc/self/fd").length;
    const before = openFds();
    await withRootHeld(t.root, async () => {
      assert.equal(openFds(), before + 1);
      for (let i = 0; i < 3; i++) {
        const top = openDirectory(t.root, "/");
        assert.equal(top.dir!.rootPath, "/");
        top.dir!.close(); // closes its own descriptor, never the held one
        const etc = openDirectory(t.root, "/etc");
        assert.equal(etc.dir!.rootPath, "/etc");
        etc.dir!.close();
      }
      assert.equal(openFds(), before + 1, "every walk closed what it opened, and the root stayed open");
    });
    assert.equal(openFds(), before, "the held root is closed afterwards");
  });
  it("reads a file through the same walk: links followed as if chrooted, a loop refused, nothing there is empty", () => {
    writeFileSync(join(t.root, "etc/real"), "inside");
    symlinkSync("/etc/real", join(t.root, "etc/abs"));
    symlinkSync("../../../etc/abs", join(t.root, "etc/rel"));
    assert.equal(readRootText(t.root, "/etc/rel"), "inside");
    assert.equal(readRootText(t.root, "/etc/none"), "");
    symlinkSync("/", join(t.root, "etc/top"));
    assert.equal(inspectInRoot(t.root, "/etc/top", { followLast: true }).rootPath, "/");
    assert.match(failure(() => readRootText(t.root, "/etc/top")), /is a directory/);
    symlinkSync("l2", join(t.root, "etc/l1"));
    symlinkSync("l1", join(t.root, "etc/l2"));
    assert.match(failure(() => readRootText(t.root, "/etc/l1")), /too many levels of symbolic links/);
  });
});
