// The platform's SSH keys on a first boot: the files stage writes them into
// ~core/.ssh/authorized_keys.d/flint-metadata from the record fetch left beside
// the cache, creates core if the root lacks it, and enables the refresh unit
// only where the root has its template.

import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { run as stageCommand } from "../../../agent/commands/stage";
import { platformDefaults } from "../../../agent/stages/fetch/assemble";
import { buildBundle, FLINT } from "../../helpers/bundle";
import { useTempRoot } from "../../helpers/root";
import { useCapturedLog } from "./run";

const KEY_1 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOneOneOneOneOneOneOneOneOneOneOneOneOneOn one@example";
const KEY_2 = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQTwoTwoTwoTwoTwo two@example";
const TEMPLATE = "[Service]\nType=oneshot\nExecStart=/usr/bin/flint sshkeys --user %i\n[Install]\nWantedBy=multi-user.target\n";

describe("files stage: the platform's SSH keys on the first boot", () => {
  useCapturedLog();
  const t = useTempRoot();

  /** What flint fetch leaves in /run/flint for a platform with keys, then the files stage as the unit runs it. */
  async function firstBoot(config: object, keys: string[] = [KEY_1, KEY_2]): Promise<void> {
    const run = join(t.dir, "run");
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, "config.json"), JSON.stringify(config));
    writeFileSync(join(run, "platform-keys.json"), JSON.stringify({ user: "core", keys }));
    assert.equal(await stageCommand(["files", "--root", t.root, "--cache", join(run, "config.json")]), 0);
  }
  const withDefaults = (config: { systemd?: object; passwd?: object } = {}) => ({ ...platformDefaults("vm-1", [KEY_1, KEY_2]), ...config });

  it("creates core, writes the keys to their own fragment, and enables nothing in a root without Flint", async () => {
    await firstBoot(withDefaults());
    const home = join(t.root, "home/core");
    const uid = Number(readFileSync(join(t.root, "etc/passwd"), "utf8").split("\n").find((l) => l.startsWith("core:"))!.split(":")[2]);
    const fragment = join(home, ".ssh/authorized_keys.d/flint-metadata");
    assert.equal(readFileSync(fragment, "utf8"), `${KEY_1}\n${KEY_2}\n`);
    assert.equal(lstatSync(fragment).uid, uid);
    assert.equal(lstatSync(fragment).mode & 0o777, 0o600);
    assert.deepEqual(readFileSync(join(home, ".ssh/authorized_keys"), "utf8").split("\n").filter((l) => l.startsWith("ssh-")), [KEY_1, KEY_2]);
    assert.equal(readFileSync(join(t.root, "etc/hostname"), "utf8"), "vm-1\n");
    assert.equal(existsSync(join(t.root, "etc/systemd/system/multi-user.target.wants/flint-sshkeys@core.service")), false);
  });

  it("makes core's home when the root names one that does not exist, as for the config's own keys", async () => {
    writeFileSync(join(t.root, "etc/passwd"), readFileSync(join(t.root, "etc/passwd"), "utf8") + "core:x:1500:1500::/home/core:/bin/sh\n");
    writeFileSync(join(t.root, "etc/group"), readFileSync(join(t.root, "etc/group"), "utf8") + "core:x:1500:\n");
    await firstBoot(withDefaults());
    const home = lstatSync(join(t.root, "home/core"));
    assert.deepEqual([home.mode & 0o777, home.uid, home.gid], [0o700, 1500, 1500]);
    assert.equal(readFileSync(join(t.root, "home/core/.ssh/authorized_keys.d/flint-metadata"), "utf8"), `${KEY_1}\n${KEY_2}\n`);
  });

  it("enables flint-sshkeys@core.service where the root has the template", async () => {
    mkdirSync(join(t.root, "usr/lib/systemd/system"), { recursive: true });
    writeFileSync(join(t.root, "usr/lib/systemd/system/flint-sshkeys@.service"), TEMPLATE);
    await firstBoot(withDefaults());
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/multi-user.target.wants/flint-sshkeys@core.service")), "/usr/lib/systemd/system/flint-sshkeys@.service");
    assert.match(readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8"), /^enable flint-sshkeys@\.service core$/m);
  });

  it("lets the config disable the refresh unit and keeps the config's own keys in their fragment", async () => {
    mkdirSync(join(t.root, "usr/lib/systemd/system"), { recursive: true });
    writeFileSync(join(t.root, "usr/lib/systemd/system/flint-sshkeys@.service"), TEMPLATE);
    const own = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnOwnOwnOwnOwnOwnOwnOwnOwnOwnOwnOwnOwnO own@example";
    await firstBoot(withDefaults({
      passwd: { users: [{ name: "core", sshAuthorizedKeys: [own] }] },
      systemd: { units: [{ name: "flint-sshkeys@core.service", enabled: false }] },
    }), [KEY_1]);
    const ssh = join(t.root, "home/core/.ssh");
    assert.equal(readFileSync(join(ssh, "authorized_keys.d/ignition"), "utf8"), `${own}\n`);
    assert.equal(readFileSync(join(ssh, "authorized_keys.d/flint-metadata"), "utf8"), `${KEY_1}\n`);
    assert.deepEqual(readFileSync(join(ssh, "authorized_keys"), "utf8").split("\n").filter((l) => l.startsWith("ssh-")), [KEY_1, own]); // fragments in name order: flint-metadata, ignition
    assert.equal(existsSync(join(t.root, "etc/systemd/system/multi-user.target.wants/flint-sshkeys@core.service")), false);
  });

  it("writes no key and adds no user when fetch left no keys", async () => {
    const run = join(t.dir, "run");
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, "config.json"), JSON.stringify(platformDefaults(undefined, [])));
    assert.equal(await stageCommand(["files", "--root", t.root, "--cache", join(run, "config.json")]), 0);
    assert.equal(readFileSync(join(t.root, "etc/passwd"), "utf8").includes("core:"), false);
  });

  it("refuses a damaged keys record with the file named", async () => {
    const run = join(t.dir, "run");
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, "config.json"), JSON.stringify(platformDefaults(undefined, [])));
    writeFileSync(join(run, "platform-keys.json"), "{\"user\": 3}");
    await assert.rejects(stageCommand(["files", "--root", t.root, "--cache", join(run, "config.json")]), (e: Error & { where?: string }) => {
      assert.match(e.message, /not a platform keys record/);
      assert.equal(e.where, join(run, "platform-keys.json"));
      return true;
    });
  });
});

describe("scripts/install-root.sh: Flint in a root, for the key refresh unit", () => {
  useCapturedLog();
  const t = useTempRoot();
  const SCRIPT = join(__dirname, "..", "..", "..", "scripts", "install-root.sh");

  it("refuses to run without a root", () => {
    assert.throws(() => execFileSync(SCRIPT, [], { stdio: "pipe" }), /usage: install-root\.sh/);
    assert.throws(() => execFileSync(SCRIPT, ["--no-build", "/"], { stdio: "pipe", env: { ...process.env, FLINT_BUNDLE: __filename } }), /never \//);
  });

  it("installs the bundle with its libraries, /usr/bin/flint and the template that a first boot then enables", async () => {
    buildBundle();
    execFileSync(SCRIPT, ["--no-build", t.root], { stdio: "pipe" });
    for (const file of ["flint.js", "flint-core.js", "flint-core.v8cache", "flint-yaml.js", "flint-sysinfo.js"]) {
      assert.deepEqual(readFileSync(join(t.root, "usr/lib/flint", file)), readFileSync(join(dirname(FLINT), file)), file);
    }
    assert.match(readFileSync(join(t.root, "usr/bin/flint"), "utf8"), /exec \/usr\/bin\/node \/usr\/lib\/flint\/flint\.js/);
    assert.equal(lstatSync(join(t.root, "usr/bin/flint")).mode & 0o111, 0o111);
    assert.match(readFileSync(join(t.root, "usr/lib/systemd/system/flint-sshkeys@.service"), "utf8"), /^ExecStart=\/usr\/bin\/flint sshkeys --user %i$/m);

    const run = join(t.dir, "run");
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, "config.json"), JSON.stringify(platformDefaults(undefined, [KEY_1])));
    writeFileSync(join(run, "platform-keys.json"), JSON.stringify({ user: "core", keys: [KEY_1] }));
    assert.equal(await stageCommand(["files", "--root", t.root, "--cache", join(run, "config.json")]), 0);
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/multi-user.target.wants/flint-sshkeys@core.service")), "/usr/lib/systemd/system/flint-sshkeys@.service");
  });
});
