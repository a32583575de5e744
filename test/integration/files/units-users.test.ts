import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempRoot, snapshotTree, useTempRoot } from "../../helpers/root";
import { applyConfig, applyFailure, logLines, V, useCapturedLog } from "./run";

/** Whether anything, even a dangling symlink, is at `p` (existsSync follows links). */
function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

const UNIT = "[Unit]\nDescription=Hello\n[Service]\nExecStart=/bin/echo hello\n[Install]\nWantedBy=multi-user.target\n";

function passwdLine(root: string, name: string): string[] | undefined {
  return readFileSync(join(root, "etc/passwd"), "utf8").split("\n").find((l) => l.startsWith(name + ":"))?.split(":");
}
function groupLine(root: string, name: string): string[] | undefined {
  return readFileSync(join(root, "etc/group"), "utf8").split("\n").find((l) => l.startsWith(name + ":"))?.split(":");
}
function shadowHash(root: string, name: string): string | undefined {
  return readFileSync(join(root, "etc/shadow"), "utf8").split("\n").find((l) => l.startsWith(name + ":"))?.split(":")[1];
}

describe("files stage: systemd units", () => {
  useCapturedLog();
  const t = useTempRoot();

  it("writes a unit and its drop-ins, enables it where [Install] WantedBy says, and records a preset", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      systemd: { units: [{ name: "hello.service", enabled: true, contents: UNIT, dropins: [{ name: "10-env.conf", contents: "[Service]\nEnvironment=A=1\n" }] }] },
    });
    const dir = join(t.root, "etc/systemd/system");
    assert.equal(readFileSync(join(dir, "hello.service"), "utf8"), UNIT);
    assert.equal(lstatSync(join(dir, "hello.service")).mode & 0o7777, 0o644);
    assert.equal(readFileSync(join(dir, "hello.service.d/10-env.conf"), "utf8"), "[Service]\nEnvironment=A=1\n");
    assert.equal(readlinkSync(join(dir, "multi-user.target.wants/hello.service")), "/etc/systemd/system/hello.service");
    assert.match(readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8"), /^enable hello\.service$/m);
  });

  it("enables the same way systemctl --root does, for aliases and template instances too", async () => {
    const template = "[Service]\nExecStart=/bin/true %i\n[Install]\nWantedBy=multi-user.target\nDefaultInstance=one\nAlias=greet@.service\n";
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "hi@.service", enabled: true, contents: template }, { name: "hi@two.service", enabled: true }] } });
    const ours = snapshotTree(join(t.root, "etc/systemd/system"));
    // The reference: a fresh root where systemctl itself enables the same files.
    const ref = makeTempRoot();
    try {
      mkdirSync(join(ref.root, "etc/systemd/system"), { recursive: true });
      writeFileSync(join(ref.root, "etc/systemd/system/hi@.service"), template, { mode: 0o644 });
      execFileSync("systemctl", ["--root", ref.root, "enable", "hi@.service", "hi@two.service"], { stdio: "ignore" });
      assert.deepEqual(ours, snapshotTree(join(ref.root, "etc/systemd/system")));
    } finally {
      ref.cleanup();
    }
    assert.ok(lexists(join(t.root, "etc/systemd/system/multi-user.target.wants/hi@one.service")));
  });

  it("enables and disables in config order, crediting each unit its own links", async () => {
    const units = ["a.service", "b.service", "c.service"].map((name) => ({ name, enabled: true, contents: UNIT }));
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units } });
    const report = await applyConfig(t.root, {
      ignition: { version: V },
      systemd: { units: [{ name: "a.service", enabled: true }, { name: "b.service", enabled: false }, { name: "c.service", enabled: false }, { name: "d.service", enabled: true, contents: UNIT }] },
    });
    const wants = join(t.root, "etc/systemd/system/multi-user.target.wants");
    assert.ok(lexists(join(wants, "a.service")));
    assert.ok(!lexists(join(wants, "b.service")) && !lexists(join(wants, "c.service")));
    assert.equal(readlinkSync(join(wants, "d.service")), "/etc/systemd/system/d.service");
    const toggles = report.stages.flatMap((s) => s.actions).filter((a) => ["enable", "disable", "link", "unlink"].includes(a.kind)).map((a) => `${a.kind} ${a.target}`);
    // a.service was enabled already: no change, so nothing is recorded for it.
    assert.deepEqual(toggles, [
      "disable b.service",
      "unlink /etc/systemd/system/multi-user.target.wants/b.service",
      "disable c.service",
      "unlink /etc/systemd/system/multi-user.target.wants/c.service",
      "enable d.service",
      "link /etc/systemd/system/multi-user.target.wants/d.service",
    ]);
    assert.match(readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8"), /enable a\.service\ndisable b\.service\ndisable c\.service\nenable d\.service/);
  });

  it("enables a unit that only the root's /usr/lib/systemd/system provides", async () => {
    mkdirSync(join(t.root, "usr/lib/systemd/system"), { recursive: true });
    writeFileSync(join(t.root, "usr/lib/systemd/system/vendor.service"), UNIT);
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "vendor.service", enabled: true }] } });
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/multi-user.target.wants/vendor.service")), "/usr/lib/systemd/system/vendor.service");
  });

  it("disables: removes the [Install] links and writes a disable preset", async () => {
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "hello.service", enabled: true, contents: UNIT }] } });
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "hello.service", enabled: false }] } });
    assert.equal(lexists(join(t.root, "etc/systemd/system/multi-user.target.wants/hello.service")), false);
    assert.match(readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8"), /^disable hello\.service$/m);
  });

  it("masks a unit with a link to /dev/null, and mask: false removes it", async () => {
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "noisy.service", mask: true }] } });
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/noisy.service")), "/dev/null");
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "noisy.service", mask: false }] } });
    assert.equal(lexists(join(t.root, "etc/systemd/system/noisy.service")), false);
  });

  it("writes an empty drop-in as an empty file, but no unit file for empty contents (unit.create.emptydropin)", async () => {
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "zincati.service", contents: "", dropins: [{ name: "empty.conf", contents: "" }, { name: "absent.conf" }] }] } });
    assert.equal(readFileSync(join(t.root, "etc/systemd/system/zincati.service.d/empty.conf"), "utf8"), "");
    assert.equal(lexists(join(t.root, "etc/systemd/system/zincati.service.d/absent.conf")), false);
    assert.equal(lexists(join(t.root, "etc/systemd/system/zincati.service")), false);
  });

  it("leaves a unit with mask: true and enabled: false masked, as Ignition does (a disable preset line, no unmasking)", async () => {
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "noisy.service", mask: true, enabled: false }] } });
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/noisy.service")), "/dev/null");
    assert.match(readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8"), /^disable noisy\.service$/m);
    // A mask already in the root survives enabled: false too.
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "noisy.service", enabled: false }] } });
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/noisy.service")), "/dev/null");
  });

  it("does not see an explicit storage.links entry for the same [Install] link as a conflict", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      storage: { links: [{ path: "/etc/systemd/system/multi-user.target.wants/hello.service", target: "/etc/systemd/system/hello.service" }] },
      systemd: { units: [{ name: "hello.service", enabled: true, contents: UNIT }] },
    });
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/multi-user.target.wants/hello.service")), "/etc/systemd/system/hello.service");
  });

  it("enables a unit the root does not have by its preset line alone, and writes the instances of a template on one line", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      systemd: { units: [{ name: "ghost.service", enabled: true }, { name: "echo@bar.service", enabled: true }, { name: "echo@foo.service", enabled: true }, { name: "echo@baz.service", enabled: false }] },
    });
    assert.equal(
      readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8"),
      // As Ignition writes it (instantiated.unit.create, unit.presets.sorted): no comment, sorted by unit.
      "disable echo@.service baz\nenable echo@.service bar foo\nenable ghost.service\n",
    );
    assert.equal(lexists(join(t.root, "etc/systemd/system/multi-user.target.wants")), false);
  });

  it("plans the links it would make, and makes nothing", async () => {
    const report = await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "hello.service", enabled: true, contents: UNIT }] } }, ["files"], true);
    const lines = report.stages.flatMap((s) => s.actions).map((a) => `${a.kind} ${a.target}`);
    assert.ok(lines.includes("enable hello.service"), lines.join("\n"));
    assert.ok(lines.includes("link /etc/systemd/system/multi-user.target.wants/hello.service"), lines.join("\n"));
    assert.equal(lexists(join(t.root, "etc/systemd")), false);
  });

  it("reads UpheldBy= (systemd 254 and later) like WantedBy=", async () => {
    await applyConfig(t.root, { ignition: { version: V }, systemd: { units: [{ name: "up.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n[Install]\nUpheldBy=default.target\n" }] } });
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/default.target.upholds/up.service")), "/etc/systemd/system/up.service");
  });
});

describe("files stage: users, groups and SSH keys", () => {
  useCapturedLog();
  const t = useTempRoot();
  beforeEach(() => {
    logLines.length = 0;
  });

  const HASH = "$6$rounds=4096$saltsalt$notarealhashbutlookslikeone";

  it("creates a user with every field, in the root's passwd, shadow and group files", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      passwd: {
        groups: [{ name: "docker", gid: 233 }],
        users: [{ name: "core", uid: 500, gecos: "CoreOS Admin", homeDir: "/home/core", passwordHash: HASH, groups: ["wheel", "docker"], shell: "/bin/bash", noLogInit: true }],
      },
    });
    assert.deepEqual(passwdLine(t.root, "core"), ["core", "x", "500", passwdLine(t.root, "core")![3], "CoreOS Admin", "/home/core", "/bin/bash"]);
    assert.equal(shadowHash(t.root, "core"), HASH);
    assert.deepEqual(groupLine(t.root, "docker"), ["docker", "x", "233", "core"]);
    assert.deepEqual(groupLine(t.root, "wheel"), ["wheel", "x", "10", "core"]);
    // A user private group (the root's login.defs says so), as its primary group.
    assert.equal(groupLine(t.root, "core")![2], passwdLine(t.root, "core")![3]);
    assert.ok(statSync(join(t.root, "home/core")).isDirectory());
    assert.equal(statSync(join(t.root, "home/core")).uid, 500);
    // The hash is on no command line: useradd gets "*", chpasswd reads the hash from its standard input.
    assert.ok(logLines.some((l) => l.includes("running useradd") && l.includes("--password *")), "the useradd command line was not logged");
    assert.ok(logLines.some((l) => l.includes("running chpasswd --root")), "chpasswd did not run");
    assert.ok(!logLines.join("\n").includes(HASH), "the password hash reached the log");
  });

  it("honours noCreateHome, noUserGroup, primaryGroup and system", async () => {
    await applyConfig(t.root, {
      ignition: { version: V },
      passwd: {
        users: [
          { name: "svc", system: true, noCreateHome: true, noUserGroup: true, primaryGroup: "nogroup", homeDir: "/var/lib/svc" },
          { name: "lone", noCreateHome: true, noUserGroup: true, primaryGroup: "wheel" },
        ],
      },
    });
    const svc = passwdLine(t.root, "svc")!;
    assert.ok(Number(svc[2]) < 1000, `system uid expected, got ${svc[2]}`);
    assert.equal(svc[3], "65534");
    assert.equal(groupLine(t.root, "svc"), undefined);
    assert.equal(existsSync(join(t.root, "var/lib/svc")), false);
    assert.equal(passwdLine(t.root, "lone")![3], "10");
    assert.equal(shadowHash(t.root, "lone"), "*", "no password login unless a hash is given");
  });

  it("modifies an existing user only where it differs, and deletes users and groups that should not exist", async () => {
    await applyConfig(t.root, { ignition: { version: V }, passwd: { users: [{ name: "core" }, { name: "old", noCreateHome: true }], groups: [{ name: "gone" }] } });
    await applyConfig(t.root, {
      ignition: { version: V },
      passwd: {
        users: [{ name: "core", passwordHash: HASH, shell: "/bin/zsh", groups: ["wheel"], gecos: "Core" }, { name: "old", shouldExist: false }],
        groups: [{ name: "gone", shouldExist: false }, { name: "wheel", gid: 11 }],
      },
    });
    const core = passwdLine(t.root, "core")!;
    assert.equal(core[6], "/bin/zsh");
    assert.equal(core[4], "Core");
    assert.equal(shadowHash(t.root, "core"), HASH);
    assert.deepEqual(groupLine(t.root, "wheel"), ["wheel", "x", "11", "core"]);
    assert.equal(passwdLine(t.root, "old"), undefined);
    assert.equal(groupLine(t.root, "gone"), undefined);
    assert.ok(!logLines.join("\n").includes(HASH), "the password hash reached the log");
  });

  it("creates groups with a gid, a password hash and as system groups", async () => {
    await applyConfig(t.root, { ignition: { version: V }, passwd: { groups: [{ name: "build", gid: 4242, passwordHash: HASH }, { name: "daemonic", system: true }] } });
    assert.deepEqual(groupLine(t.root, "build"), ["build", "x", "4242", ""]);
    const gshadow = readFileSync(join(t.root, "etc/gshadow"), "utf8");
    assert.match(gshadow, new RegExp(`^build:${HASH.replace(/\$/g, "\\$")}:`, "m"));
    assert.ok(Number(groupLine(t.root, "daemonic")![2]) < 1000, "a system group gets a system gid");
    assert.ok(!logLines.join("\n").includes(HASH), "the password hash reached the log");
  });

  it("creates the missing home of an existing user where the user may (root without /root; parents root's 0755) and writes the keys", async () => {
    const passwd = readFileSync(join(t.root, "etc/passwd"), "utf8") + "al:x:600:600::/srv/users/al:/bin/sh\n";
    writeFileSync(join(t.root, "etc/passwd"), passwd);
    writeFileSync(join(t.root, "etc/group"), readFileSync(join(t.root, "etc/group"), "utf8") + "al:x:600:\n");
    mkdirSync(join(t.root, "srv"), { recursive: true });
    chmodSync(join(t.root, "srv"), 0o1777);
    assert.equal(existsSync(join(t.root, "root")), false);
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne one@example";
    await applyConfig(t.root, { ignition: { version: V }, passwd: { users: [{ name: "root", sshAuthorizedKeys: [key] }, { name: "al", sshAuthorizedKeys: [key] }] } });
    const home = statSync(join(t.root, "root"));
    assert.equal(home.mode & 0o7777, 0o700);
    assert.equal(home.uid, 0);
    assert.equal(readFileSync(join(t.root, "root/.ssh/authorized_keys.d/ignition"), "utf8"), key + "\n");
    const al = statSync(join(t.root, "srv/users/al"));
    assert.deepEqual([al.mode & 0o7777, al.uid, al.gid], [0o700, 600, 600]);
    const parent = statSync(join(t.root, "srv/users"));
    assert.deepEqual([parent.mode & 0o7777, parent.uid], [0o755, 0]);
    assert.equal(readFileSync(join(t.root, "srv/users/al/.ssh/authorized_keys.d/ignition"), "utf8"), key + "\n");
  });

  it("fails as Ignition fails for a user with noCreateHome: true and SSH keys whose home it may not create", async () => {
    const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne one@example";
    const err = await applyFailure(t.root, { ignition: { version: V }, passwd: { users: [{ name: "nohome", noCreateHome: true, sshAuthorizedKeys: [key] }] } });
    assert.match(err, /passwd\.users\.0\.sshAuthorizedKeys.*cannot write the SSH keys of "nohome": the home \/home\/nohome does not exist, and the user \(uid \d+\) may not create it in \/home/);
    assert.equal(existsSync(join(t.root, "home/nohome")), false);
  });

  it("installs SSH keys as the ignition fragment and rebuilds authorized_keys from the keys alone", async () => {
    const keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOne one@example", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAITwo two@example"];
    await applyConfig(t.root, { ignition: { version: V }, passwd: { users: [{ name: "core", sshAuthorizedKeys: keys }] } });
    const ssh = join(t.root, "home/core/.ssh");
    assert.equal(readFileSync(join(ssh, "authorized_keys.d/ignition"), "utf8"), keys.join("\n") + "\n");
    // Only the keys, as Ignition's users.authorized_keys expects.
    assert.equal(readFileSync(join(ssh, "authorized_keys"), "utf8"), keys.join("\n") + "\n");
    const uid = Number(passwdLine(t.root, "core")![2]);
    assert.equal(statSync(ssh).uid, uid);
    assert.equal(statSync(ssh).mode & 0o777, 0o700);
  });
});
