import assert from "node:assert/strict";
import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { run as sshkeys } from "../../../agent/commands/sshkeys";
import { routes, startHttpServer, type TestServer } from "../../helpers/servers/http";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";

const KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOneOneOneOneOneOneOneOneOneOneOneOneOneOn one@example";
const KEY_2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQTwoTwoTwoTwoTwo two@example";

describe("flint sshkeys", () => {
  let t: TempRoot;
  let server: TestServer | undefined;
  let savedEnv: NodeJS.ProcessEnv;
  beforeEach(() => {
    t = makeTempRoot("flint-sshkeys-");
    appendFileSync(join(t.root, "etc/passwd"), "core:x:500:500:Core:/home/core:/bin/bash\n");
    mkdirSync(join(t.root, "home/core"), { mode: 0o755 });
    savedEnv = { ...process.env };
  });
  afterEach(async () => {
    process.env = savedEnv;
    await server?.close();
    server = undefined;
    t.cleanup();
  });

  it("writes the platform's keys to authorized_keys.d/flint-metadata and rebuilds authorized_keys", async () => {
    server = await startHttpServer(routes({ "/metadata/v1.json": JSON.stringify({ public_keys: [KEY_1, KEY_2] }) }));
    process.env.FLINT_DIGITALOCEAN_ENDPOINT = server.url;
    assert.equal(await sshkeys(["sshkeys", "--user", "core", "--platform", "digitalocean", "--root", t.root]), 0);
    const fragment = join(t.root, "home/core/.ssh/authorized_keys.d/flint-metadata");
    assert.equal(readFileSync(fragment, "utf8"), `${KEY_1}\n${KEY_2}\n`);
    assert.equal(lstatSync(fragment).uid, 500);
    assert.equal(lstatSync(fragment).mode & 0o777, 0o600);
    const keys = readFileSync(join(t.root, "home/core/.ssh/authorized_keys"), "utf8").split("\n").filter((l) => l.startsWith("ssh-"));
    assert.deepEqual(keys, [KEY_1, KEY_2]);
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore);
  });

  it("writes an empty fragment when the metadata service has no keys (404)", async () => {
    server = await startHttpServer(routes({}));
    process.env.FLINT_DIGITALOCEAN_ENDPOINT = server.url;
    assert.equal(await sshkeys(["sshkeys", "--user", "core", "--platform", "digitalocean", "--root", t.root]), 0);
    assert.equal(readFileSync(join(t.root, "home/core/.ssh/authorized_keys.d/flint-metadata"), "utf8"), "");
  });

  it("does nothing on a platform without SSH keys", async () => {
    assert.equal(await sshkeys(["sshkeys", "--user", "core", "--platform", "qemu", "--root", t.root]), 0);
    assert.equal(existsSync(join(t.root, "home/core/.ssh")), false);
  });

  it("fails clearly for a user the root does not know, and requires --user", async () => {
    server = await startHttpServer(routes({}));
    process.env.FLINT_DIGITALOCEAN_ENDPOINT = server.url;
    await assert.rejects(sshkeys(["sshkeys", "--user", "nobody-here", "--platform", "digitalocean", "--root", t.root]), /no such user/);
    await assert.rejects(sshkeys(["sshkeys", "--platform", "qemu"]), /--user is required/);
  });
});
