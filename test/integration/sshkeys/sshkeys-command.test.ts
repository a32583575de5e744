import assert from "node:assert/strict";
import { restoreEnv } from "../../helpers/env";
import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run as sshkeys } from "../../../agent/commands/sshkeys";
import { startLab, type Lab } from "../../lab/netns";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";
import { buildBundle } from "../../helpers/bundle";

const KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOneOneOneOneOneOneOneOneOneOneOneOneOneOn one@example";

describe("flint sshkeys", () => {
  let t: TempRoot;
  let lab: Lab | undefined;
  before(buildBundle);
  let savedEnv: NodeJS.ProcessEnv;
  beforeEach(() => {
    t = makeTempRoot("flint-sshkeys-");
    appendFileSync(join(t.root, "etc/passwd"), "core:x:500:500:Core:/home/core:/bin/bash\n");
    mkdirSync(join(t.root, "home/core"), { mode: 0o755 });
    savedEnv = { ...process.env };
  });
  afterEach(async () => {
    restoreEnv(savedEnv);
    await lab?.close();
    lab = undefined;
    t.cleanup();
  });

  it("writes the platform's keys to authorized_keys.d/flint-metadata and rebuilds authorized_keys (fake DigitalOcean at its real address)", async () => {
    lab = await startLab({ platform: "digitalocean", sshKey: KEY_1 });
    const result = await lab.flint(["sshkeys", "--user", "core", "--platform", "digitalocean", "--root", t.root, "--cmdline-file", "/dev/null"]);
    assert.equal(result.status, 0, result.stderr);
    const fragment = join(t.root, "home/core/.ssh/authorized_keys.d/flint-metadata");
    assert.equal(readFileSync(fragment, "utf8"), `${KEY_1}\n`);
    assert.equal(lstatSync(fragment).uid, 500);
    assert.equal(lstatSync(fragment).mode & 0o777, 0o600);
    const keys = readFileSync(join(t.root, "home/core/.ssh/authorized_keys"), "utf8").split("\n").filter((l) => l.startsWith("ssh-"));
    assert.deepEqual(keys, [KEY_1]);
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore);
  });

  it("writes an empty fragment when the metadata service has no keys", async () => {
    lab = await startLab({ platform: "digitalocean" });
    const result = await lab.flint(["sshkeys", "--user", "core", "--platform", "digitalocean", "--root", t.root, "--cmdline-file", "/dev/null"]);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(readFileSync(join(t.root, "home/core/.ssh/authorized_keys.d/flint-metadata"), "utf8"), "");
  });

  it("does nothing on a platform without SSH keys", async () => {
    assert.equal(await sshkeys(["sshkeys", "--user", "core", "--platform", "qemu", "--root", t.root]), 0);
    assert.equal(existsSync(join(t.root, "home/core/.ssh")), false);
  });

  it("fails clearly for a user the root does not know (before asking the network), and requires --user", async () => {
    await assert.rejects(sshkeys(["sshkeys", "--user", "nobody-here", "--platform", "digitalocean", "--root", t.root]), /no such user/);
    await assert.rejects(sshkeys(["sshkeys", "--platform", "qemu"]), /--user is required/);
  });
});
