// `flint apply`, `flint plan` and `flint report` as a user runs them: the
// bundled agent, spawned, on a temporary root.

import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { makeTempRoot, snapshotTree, useTempRoot } from "../../helpers/root";
import { buildBundle, FLINT } from "../../helpers/bundle";

const REPORT = "etc/.flint-result.json";
const SECRET = "s3cr3t-file-contents-that-must-not-leak";
const HASH = "$6$salt$averysecrethashvalue";

function flint(args: string[], input?: string, env: NodeJS.ProcessEnv = process.env): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [FLINT, ...args], { input, encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const UNIT = "[Unit]\nDescription=Hello\n[Service]\nExecStart=/bin/echo hi\n[Install]\nWantedBy=multi-user.target\n";

const FULL = {
  ignition: { version: "3.4.0" },
  passwd: {
    groups: [{ name: "ops", gid: 3000 }],
    users: [{ name: "core", passwordHash: HASH, groups: ["wheel", "ops"], sshAuthorizedKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey core@example"] }],
  },
  storage: {
    directories: [{ path: "/var/lib/app", mode: 0o750, user: { name: "core" }, group: { name: "ops" } }],
    files: [
      { path: "/etc/motd", contents: { source: "data:,welcome%0A" } },
      { path: "/etc/app/secret.conf", mode: 0o600, contents: { source: `data:,${SECRET}` }, user: { name: "core" } },
    ],
    links: [
      { path: "/etc/localtime", target: "/usr/share/zoneinfo/UTC" },
      { path: "/etc/motd.hard", target: "/etc/motd", hard: true },
    ],
  },
  systemd: { units: [{ name: "hello.service", enabled: true, contents: UNIT, dropins: [{ name: "10-a.conf", contents: "[Service]\nNice=5\n" }] }, { name: "bad.service", mask: true }] },
};

describe("flint apply, plan and report", function () {
  this.timeout(180_000);
  before(buildBundle);
  const t = useTempRoot();

  function writeConfig(config: object | string): string {
    const path = join(t.dir, "config.ign");
    writeFileSync(path, typeof config === "string" ? config : JSON.stringify(config));
    return path;
  }

  it("applies a config from a file, writes the report, and a second run changes nothing", () => {
    const config = writeConfig(FULL);
    const first = flint(["apply", "--config", config, "--root", t.root]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(join(t.root, "etc/app/secret.conf"), "utf8"), SECRET);
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/multi-user.target.wants/hello.service")), "/etc/systemd/system/hello.service");
    const ignoreReport = { ignore: (p: string) => p === REPORT };
    const after1 = snapshotTree(t.root, ignoreReport);
    const second = flint(["apply", "--config", config, "--root", t.root]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(snapshotTree(t.root, ignoreReport), after1);
    const report = JSON.parse(readFileSync(join(t.root, REPORT), "utf8"));
    assert.deepEqual(report.stages.map((s: { name: string }) => s.name), ["mount", "files", "umount"]);
    assert.deepEqual(report.stages[1].actions, [], "the second run had nothing to do");
  });

  it("reads the config from stdin with --config -", () => {
    const r = flint(["apply", "--config", "-", "--root", t.root, "--stages", "files"], JSON.stringify({ ignition: { version: "3.0.0" }, storage: { files: [{ path: "/etc/from-stdin", contents: { source: "data:,x" } }] } }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(t.root, "etc/from-stdin"), "utf8"), "x");
  });

  it("resolves the config's merge references before applying", () => {
    const child = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-merge", contents: { source: "data:,merged" } }] } };
    const parent = {
      ignition: { version: "3.4.0", config: { merge: [{ source: `data:;base64,${Buffer.from(JSON.stringify(child)).toString("base64")}` }] } },
      storage: { files: [{ path: "/etc/from-parent", contents: { source: "data:,parent" } }] },
    };
    const r = flint(["apply", "--config", writeConfig(parent), "--root", t.root, "--stages", "files"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(t.root, "etc/from-merge"), "utf8"), "merged");
    assert.equal(readFileSync(join(t.root, "etc/from-parent"), "utf8"), "parent");
  });

  it("keeps contents and password hashes out of the log and the report", () => {
    const r = flint(["--log-level", "debug", "apply", "--config", writeConfig(FULL), "--root", t.root]);
    assert.equal(r.code, 0, r.stderr);
    const report = readFileSync(join(t.root, REPORT), "utf8");
    for (const text of [r.stderr, r.stdout, report]) {
      assert.ok(!text.includes(SECRET), "file contents leaked");
      assert.ok(!text.includes(HASH), "a password hash leaked");
    }
    assert.match(report, /"target": "\/etc\/app\/secret.conf"/);
  });

  it("flint report shows the last run, readable and as JSON", () => {
    assert.equal(flint(["apply", "--config", writeConfig(FULL), "--root", t.root]).code, 0);
    const text = flint(["report", "--root", t.root]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /succeeded/);
    assert.match(text.stdout, /stage files: ok in [\d.]+ ms/);
    assert.match(text.stdout, /^ {2}create \/etc\/motd mode=0644 owner=0:0$/m);
    assert.match(text.stdout, /^ {2}useradd core$/m);
    const json = JSON.parse(flint(["report", "--root", t.root, "--json"]).stdout);
    assert.equal(json.ok, true);
    assert.equal(typeof json.flintVersion, "string");
  });

  it("flint plan prints every action in order and changes nothing", () => {
    const before = snapshotTree(t.root);
    const r = flint(["plan", "--config", writeConfig(FULL), "--root", t.root]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshotTree(t.root), before, "plan changed the root");
    const lines = r.stdout.trim().split("\n");
    for (const expected of [
      "groupadd ops gid=3000",
      "useradd core",
      "ssh-keys core 1 key(s)",
      "mkdir /var/lib/app mode=0750 owner=core:ops",
      "create /etc/motd mode=0644 owner=0:0",
      "create /etc/app/secret.conf mode=0600 owner=core:0",
      "link /etc/localtime -> /usr/share/zoneinfo/UTC",
      "link /etc/motd.hard hard -> /etc/motd",
      "create /etc/systemd/system/hello.service mode=0644 owner=0:0",
      "link /etc/systemd/system/bad.service -> /dev/null",
      "enable hello.service",
    ]) {
      assert.ok(lines.includes(expected), `missing ${JSON.stringify(expected)} in:\n${r.stdout}`);
    }
    assert.ok(lines.indexOf("useradd core") < lines.indexOf("create /etc/app/secret.conf mode=0600 owner=core:0"), "users come before files");
    assert.ok(lines.indexOf("mkdir /etc/app mode=0755 owner=0:0") < lines.indexOf("create /etc/app/secret.conf mode=0600 owner=core:0"), "parents first");
    // After apply, a plan has nothing left to do.
    assert.equal(flint(["apply", "--config", writeConfig(FULL), "--root", t.root]).code, 0);
    assert.equal(flint(["plan", "--config", writeConfig(FULL), "--root", t.root]).stdout, "");
  });

  it("exits 1 with a message naming the file on an overwrite conflict, and 2 on usage errors", () => {
    writeFileSync(join(t.root, "etc/motd"), "someone else's\n");
    const r = flint(["apply", "--config", writeConfig({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/motd", contents: { source: "data:,mine" } }] } }), "--root", t.root]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config\.ign: storage\.files\.0 \(line 1, column \d+\), file \/etc\/motd: \/etc\/motd already exists with other contents/);
    const report = JSON.parse(readFileSync(join(t.root, REPORT), "utf8"));
    assert.equal(report.ok, false);
    assert.equal(flint(["apply", "--root", t.root]).code, 2);
    assert.equal(flint(["apply", "--config", "x", "--root", t.root, "--stages", "files,bogus"]).code, 2);
  });

  it("prints the config's warnings with line and column, as validate does", () => {
    const config = writeConfig('{"ignition": {"version": "3.4.0"},\n "storage": {"files": [{"path": "/etc/w", "colour": "red"}]}}');
    const r = flint(["apply", "--config", config, "--root", t.root, "--stages", "files"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /config\.ign: warning: storage\.files\.0\.colour: unknown key "colour" ignored \(line 2, column 43\)/);
  });

  it("names the command's stage in the console's failure box, whatever global options come first", () => {
    writeFileSync(join(t.root, "etc/motd"), "someone else's\n");
    const config = writeConfig({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/motd", contents: { source: "data:,mine" } }] } });
    const consoleFile = join(t.dir, "console");
    writeFileSync(consoleFile, "");
    const r = flint(["--log-level", "warn", "apply", "--config", config, "--root", t.root], undefined, { ...process.env, FLINT_CONSOLE: consoleFile });
    assert.equal(r.code, 1);
    const box = readFileSync(consoleFile, "utf8");
    assert.match(box, /Flint failed in stage: apply /);
    assert.match(box, /journalctl -u flint-apply\.service/);
    assert.doesNotMatch(box, /warn/);
    // At debug level the machine dump follows, with systeminformation's data from flint-sysinfo.js beside the bundle.
    writeFileSync(consoleFile, "");
    assert.equal(flint(["--log-level", "debug", "apply", "--config", config, "--root", t.root], undefined, { ...process.env, FLINT_CONSOLE: consoleFile }).code, 1);
    const dump = readFileSync(consoleFile, "utf8");
    assert.match(dump, /---- machine dump \(flint\.log=debug\) ----/);
    assert.match(dump, /^ {2}system: /m);
    assert.match(dump, /^ {2}lo: .*127\.0\.0\.1/m);
    assert.doesNotMatch(dump, /\(unavailable: /);
  });

  it("applies the seed-style 2.2.0 example (unit + link) and the unit ends up enabled", () => {
    // What Flatcar users wrote before 3.x: a unit, and the [Install] link by hand.
    const seed = {
      ignition: { version: "2.2.0" },
      systemd: { units: [{ name: "seed.service", enabled: true, contents: UNIT.replace("Hello", "Seed") }] },
      storage: { links: [{ filesystem: "root", path: "/etc/systemd/system/multi-user.target.wants/seed.service", target: "/etc/systemd/system/seed.service" }] },
    };
    const r = flint(["apply", "--config", writeConfig(seed), "--root", t.root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readlinkSync(join(t.root, "etc/systemd/system/multi-user.target.wants/seed.service")), "/etc/systemd/system/seed.service");
    assert.match(readFileSync(join(t.root, "etc/systemd/system-preset/20-ignition.preset"), "utf8"), /^enable seed\.service$/m);
  });

  it("streams a 1 GiB file to disk without holding it in memory", function () {
    this.timeout(600_000);
    // 1 GiB of zeros as a gzip data URL (~1.4 MB of config), decompressed on the way to disk.
    const block = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const gz = Buffer.concat(Array.from({ length: 16 }, () => block));
    const config = writeConfig({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/var/big", contents: { source: `data:;base64,${gz.toString("base64")}`, compression: "gzip" } }] } });
    // GNU time reports the peak resident set size of the agent in KiB.
    const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, FLINT, "apply", "--config", config, "--root", t.root, "--stages", "files"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(lstatSync(join(t.root, "var/big")).size, 1024 ** 3);
    const peakKiB = Number(r.stderr.trim().split("\n").pop());
    assert.ok(peakKiB < 256 * 1024, `peak RSS ${peakKiB} KiB: the file was held in memory`);
  });

  it("survives SIGKILL in the middle of writing many files: a re-run gives the tree of a clean run", async () => {
    const many = {
      ignition: { version: "3.4.0" },
      storage: {
        files: Array.from({ length: 400 }, (_, i) => ({ path: `/srv/data/d${i % 20}/f${i}`, mode: 0o640, contents: { source: `data:,${"x".repeat(2000)}${i}` } })),
      },
    };
    const config = writeConfig(many);
    const clean = makeTempRoot();
    try {
      assert.equal(flint(["apply", "--config", config, "--root", clean.root, "--stages", "files"]).code, 0);
      const ignore = { ignore: (p: string) => p === REPORT };
      const expected = snapshotTree(clean.root, ignore);

      // Kill it at work (temporary files or some real names under srv/data, not all of them), then apply again.
      const child = spawn(process.execPath, [FLINT, "apply", "--config", config, "--root", t.root, "--stages", "files"], { stdio: "ignore" });
      const atWork = (): boolean => {
        let temps = 0;
        let real = 0;
        for (let d = 0; d < 20; d++) {
          let names: string[] = [];
          try {
            names = readdirSync(join(t.root, `srv/data/d${d}`));
          } catch {
            // not made yet
          }
          for (const name of names) name.startsWith(".flint-tmp-") ? temps++ : real++;
        }
        return (temps > 0 || real > 0) && real < 400;
      };
      let killedAtWork = false;
      await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          const working = atWork();
          if (working || child.exitCode !== null) {
            clearInterval(poll);
            killedAtWork = working && child.exitCode === null;
            child.kill("SIGKILL");
            resolve();
          }
        }, 2);
      });
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once("exit", resolve));
      assert.ok(killedAtWork, "the first run was not caught in the middle");
      assert.equal(child.signalCode, "SIGKILL", "the first run ended on its own");
      assert.notDeepEqual(snapshotTree(t.root, ignore), expected, "the killed run left the finished tree");
      const rerun = flint(["apply", "--config", config, "--root", t.root, "--stages", "files"]);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(snapshotTree(t.root, ignore), expected);
      assert.deepEqual(snapshotTree(t.root).filter((l) => l.includes(".flint-tmp-")), [], "temp files left behind");
    } finally {
      clean.cleanup();
    }
  });
});
