import { strict as assert } from "node:assert";
import { lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findGroup, findUser, userDetails } from "../../../agent/root/accounts";
import { openDirectory } from "../../../agent/root/resolve";
import { randomTempName } from "../../../agent/root/temp-name";
import { openOrCreateDirectory, sweepTempFiles, TEMP_PREFIX, tempName, writeRootFile } from "../../../agent/root/write";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";

describe("writing inside the root", () => {
  let t: TempRoot;
  beforeEach(() => {
    t = makeTempRoot();
  });
  afterEach(() => {
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore);
    t.cleanup();
  });

  it("creates missing directories one at a time as root:root 0755, whatever the umask", async () => {
    const old = process.umask(0o077);
    try {
      const dir = openOrCreateDirectory(t.root, "/a/b/c")!;
      assert.equal(dir.hostPath(), join(t.root, "a/b/c"));
      dir.close();
    } finally {
      process.umask(old);
    }
    for (const d of ["a", "a/b", "a/b/c"]) assert.equal(lstatSync(join(t.root, d)).mode & 0o7777, 0o755, d);
  });

  it("creates directories through a symlink to / inside the root, never beside it", async () => {
    symlinkSync("/", join(t.root, "up"));
    const dir = openOrCreateDirectory(t.root, "/up/up/canary/new")!;
    assert.equal(dir.rootPath, "/canary/new");
    assert.equal(dir.hostPath(), join(t.root, "canary/new"));
    dir.close();
  });

  it("in a dry run creates nothing and names every directory it would create", async () => {
    const seen: string[] = [];
    assert.equal(openOrCreateDirectory(t.root, "/x/y/z", { dryRun: true, created: (p) => seen.push(p) }), undefined);
    assert.deepEqual(seen, ["/x", "/x/y", "/x/y/z"]);
    assert.throws(() => lstatSync(join(t.root, "x")));
  });

  it("writes a file by temporary name and rename: mode and owner set, no temp name left", async () => {
    await writeRootFile(t.root, "/etc/final", "content", 0o640, { uid: 12, gid: 34 });
    const st = lstatSync(join(t.root, "etc/final"));
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o640, 12, 34]);
    assert.equal(readFileSync(join(t.root, "etc/final"), "utf8"), "content");
    assert.deepEqual(readdirSync(join(t.root, "etc")).filter((n) => n.includes(TEMP_PREFIX)), []);
  });

  it("replaces a symlink at the path atomically instead of following it", async () => {
    symlinkSync(join(t.canary, "untouched"), join(t.root, "etc/l"));
    await writeRootFile(t.root, "/etc/l", "mine", 0o644);
    assert.equal(lstatSync(join(t.root, "etc/l")).isFile(), true);
    assert.equal(readFileSync(join(t.root, "etc/l"), "utf8"), "mine");
  });

  it("refuses to write the root itself", async () => {
    await assert.rejects(writeRootFile(t.root, "/", "x", 0o644), /the root itself cannot be written/);
    await assert.rejects(writeRootFile(t.root, "/etc/..", "x", 0o644), /the root itself cannot be written/);
  });

  it("sweeps the temp files a killed run left, and nothing else", async () => {
    const etcHost = join(t.root, "etc");
    // Named as a killed run leaves them: the files stage's own, and a download's.
    writeFileSync(join(etcHost, tempName()), "half");
    writeFileSync(randomTempName(etcHost, "fetch-"), "half");
    writeFileSync(join(etcHost, ".flint-tmpfile"), "someone else's");
    assert.equal(readdirSync(etcHost).filter((n) => n.startsWith(TEMP_PREFIX)).length, 2);
    const etc = openDirectory(t.root, "/etc").dir!;
    sweepTempFiles(etc);
    etc.close();
    assert.deepEqual(readdirSync(etcHost).sort(), [".flint-tmpfile", "group", "gshadow", "login.defs", "passwd", "shadow"]);
  });
});

describe("the root's accounts", () => {
  let t: TempRoot;
  beforeEach(() => {
    t = makeTempRoot();
  });
  afterEach(() => t.cleanup());

  it("reads users and groups from the root's files, not the host's", async () => {
    writeFileSync(join(t.root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\ncore:x:500:501:Core:/home/core:/bin/bash\n");
    writeFileSync(join(t.root, "etc/shadow"), "core:$6$h:1::::::\n");
    writeFileSync(join(t.root, "etc/group"), "core:x:501:\nwheel:x:10:core,other\n");
    assert.deepEqual(findUser(t.root, "core"), { name: "core", uid: 500, gid: 501, home: "/home/core", shell: "/bin/bash" });
    assert.equal(userDetails(t.root, "core")?.passwordHash, "$6$h");
    assert.deepEqual(findGroup(t.root, "wheel"), { name: "wheel", gid: 10, members: ["core", "other"] });
    assert.equal(findUser(t.root, "nobody-here"), undefined);
  });

  it("follows a symlinked /etc/passwd inside the root only", async () => {
    writeFileSync(join(t.root, "etc/passwd.real"), "alt:x:7:7::/:/bin/sh\n");
    const { rmSync } = await import("node:fs");
    rmSync(join(t.root, "etc/passwd"));
    symlinkSync("/etc/passwd.real", join(t.root, "etc/passwd"));
    assert.equal(findUser(t.root, "alt")?.uid, 7);
  });
});
