import assert from "node:assert/strict";
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { installKeyFragment, PRESERVED_FRAGMENT } from "../../../agent/users/authorized-keys";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa a@example";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb b@example";

describe("authorized_keys.d fragments", () => {
  let t: TempRoot;
  let home: string;
  beforeEach(() => {
    t = makeTempRoot("flint-keys-");
    home = join(t.root, "home/core");
    mkdirSync(home, { mode: 0o755 });
  });
  afterEach(() => t.cleanup());

  it("writes the fragment 0600 in a 0700 directory, owned by the user, and rebuilds authorized_keys", async () => {
    const result = await installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 501, fragment: "flint-metadata", keys: [KEY_A] });
    assert.equal(result.fragment, "/home/core/.ssh/authorized_keys.d/flint-metadata");
    for (const [path, mode] of [[".ssh", 0o700], [".ssh/authorized_keys.d", 0o700], [".ssh/authorized_keys.d/flint-metadata", 0o600], [".ssh/authorized_keys", 0o600]] as const) {
      const st = lstatSync(join(home, path));
      assert.equal(st.mode & 0o7777, mode, path);
      assert.equal(st.uid, 500, path);
      assert.equal(st.gid, 501, path);
    }
    assert.equal(readFileSync(join(home, ".ssh/authorized_keys.d/flint-metadata"), "utf8"), KEY_A + "\n");
    assert.match(readFileSync(join(home, ".ssh/authorized_keys"), "utf8"), new RegExp(KEY_A.replace(/[+.]/g, "\\$&")));
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore);
  });

  it("merges every fragment in name order and replaces only its own fragment on a rerun", async () => {
    await installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 500, fragment: "zz-user", keys: [KEY_B] });
    await installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 500, fragment: "flint-metadata", keys: [KEY_A] });
    await installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 500, fragment: "flint-metadata", keys: [KEY_A] });
    const merged = readFileSync(join(home, ".ssh/authorized_keys"), "utf8");
    const keys = merged.split("\n").filter((l) => l.startsWith("ssh-"));
    assert.deepEqual(keys, [KEY_A, KEY_B]);
    assert.deepEqual(readdirSync(join(home, ".ssh/authorized_keys.d")).sort(), ["flint-metadata", "zz-user"]);
  });

  it("keeps keys already in authorized_keys, moved into their own fragment", async () => {
    mkdirSync(join(home, ".ssh"), { mode: 0o700 });
    writeFileSync(join(home, ".ssh/authorized_keys"), KEY_B + "\n");
    await installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 500, fragment: "flint-metadata", keys: [KEY_A] });
    assert.equal(readFileSync(join(home, `.ssh/authorized_keys.d/${PRESERVED_FRAGMENT}`), "utf8"), KEY_B + "\n");
    const keys = readFileSync(join(home, ".ssh/authorized_keys"), "utf8").split("\n").filter((l) => l.startsWith("ssh-"));
    assert.deepEqual(keys, [KEY_A, KEY_B]);
  });

  it("refuses a .ssh that is a symlink, even one pointing inside the root", async () => {
    symlinkSync("/etc", join(home, ".ssh"));
    await assert.rejects(installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 500, fragment: "flint-metadata", keys: [KEY_A] }), /symlink/);
    assert.equal(lstatSync(join(t.root, "etc")).uid, 0);
  });

  it("never leaves the root when the home is a symlink pointing outside it", async () => {
    symlinkSync(t.canary, join(t.root, "home/escape"));
    await installKeyFragment({ root: t.root, home: "/home/escape", uid: 500, gid: 500, fragment: "flint-metadata", keys: [KEY_A] }).catch(() => undefined);
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore);
  });

  it("rejects a key with a line break and a fragment name with a slash", async () => {
    await assert.rejects(installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 500, fragment: "x", keys: ["ssh-ed25519 AAAA\ncommand=evil"] }), /single line/);
    await assert.rejects(installKeyFragment({ root: t.root, home: "/home/core", uid: 500, gid: 500, fragment: "../x", keys: [KEY_A] }), /plain file names/);
  });
});
