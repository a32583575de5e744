// `flint validate` and `flint translate` as a user runs them: the built bundle, real files, exit codes.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalizeIgnition } from "../../../scripts/lib/butane-normalize.mjs";
import { buildBundle } from "../../helpers/bundle";

const FIXTURES = "test/fixtures/configs";

function flint(args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, ["dist/flint.js", ...args], { input, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("flint validate / translate (built CLI)", function () {
  this.timeout(120_000);
  let tmp: string;

  before(() => {
    buildBundle();
    tmp = mkdtempSync(join(tmpdir(), "flint-config-cli-"));
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("validates every example config (exit 0, nothing printed)", () => {
    const r = flint(["validate", "examples/demo.ign", "examples/seed-2.2.ign", "examples/storage.ign", "examples/merge.ign"]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
  });

  it("prints warnings on stderr and still exits 0", () => {
    const r = flint(["validate", `${FIXTURES}/warnings.ign`]);
    assert.equal(r.status, 0);
    assert.equal(
      r.stderr,
      [
        'warning: storage.files.0.colour: unknown key "colour" ignored (line 4, column 55)',
        'warning: storage.luks: unknown key "luks" ignored: it needs spec 3.2.0 or later, and this config is 3.0.0 (line 5, column 5)',
        "",
      ].join("\n"),
    );
  });

  it("lists every error with path, line and column, and exits 1", () => {
    const r = flint(["validate", `${FIXTURES}/invalid.ign`]);
    assert.equal(r.status, 1);
    assert.deepEqual(r.stderr.trim().split("\n"), [
      'error: storage.files.1.path: path must be absolute (got "etc/relative") (line 6, column 17)',
      'error: storage.files.2.path: duplicate path "/etc/ok" (already used by storage.files.0) (line 7, column 17)',
      'error: systemd.units.0.name: unit name must end in a unit type such as .service, .socket, .mount, .timer or .target (got "hello.txt") (line 11, column 25)',
    ]);
  });

  it("reports JSON with --json on stdout", () => {
    const r = flint(["validate", "--json", `${FIXTURES}/invalid.ign`]);
    assert.equal(r.status, 1);
    const report = JSON.parse(r.stdout);
    assert.equal(report.valid, false);
    assert.equal(report.errors.length, 3);
    assert.deepEqual(report.errors[0], { path: "storage.files.1.path", message: 'path must be absolute (got "etc/relative")', line: 6, column: 17 });
    assert.deepEqual(report.warnings, []);
    const ok = JSON.parse(flint(["validate", "--json", "examples/seed-2.2.ign"]).stdout);
    assert.deepEqual(ok, { file: "examples/seed-2.2.ign", valid: true, specVersion: "2.2.0", errors: [], warnings: [] });
  });

  it("reads the config from standard input with -", () => {
    assert.equal(flint(["validate", "-"], '{"ignition":{"version":"3.3.0"}}').status, 0);
    const r = flint(["validate", "-"], '{"ignition":{"version":"3.3.0"},"storage":{"files":[{"path":"x"}]}}');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: storage\.files\.0\.path: path must be absolute \(got "x"\) \(line 1, column 61\)\n$/);
  });

  it("rejects malformed input with one clear line and no stack trace", () => {
    const notUtf8 = join(tmp, "latin1.ign");
    writeFileSync(notUtf8, Buffer.from('{"ignition":{"version":"3.0.0"},"x":"caf\xe9"}', "latin1"));
    const cases: [string, RegExp][] = [
      [`${FIXTURES}/bad-json.ign`, /^error: invalid JSON: expected ',' or a closing bracket \(line 3, column 44\)\n$/],
      [`${FIXTURES}/empty.ign`, /^error: the config is empty\n$/],
      [notUtf8, /^error: the config is not valid UTF-8 text \(first bad byte at offset 40\)\n$/],
    ];
    for (const [file, expected] of cases) {
      const r = flint(["validate", file]);
      assert.equal(r.status, 1, file);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/);
    }
  });

  it("exits 2 for an unreadable file and for usage errors", () => {
    const missing = flint(["validate", join(tmp, "missing.ign")]);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /^flint validate: cannot read .*missing\.ign: no such file\n$/);
    assert.equal(flint(["validate"]).status, 2);
    assert.equal(flint(["validate", "--bogus", "x"]).status, 2);
    assert.equal(flint(["translate", "a", "b"]).status, 2);
  });

  it("reports an unreadable file in --json output with exit 2", () => {
    const r = flint(["validate", "--json", join(tmp, "missing.ign")]);
    assert.equal(r.status, 2);
    const report = JSON.parse(r.stdout);
    assert.equal(report.valid, false);
    assert.match(report.readError, /cannot read .*missing\.ign: no such file/);
  });

  it("translates a config read from standard input", () => {
    const r = flint(["translate", "-"], JSON.stringify({ ignition: { version: "2.0.0" }, systemd: { units: [{ name: "a.service", enable: true, contents: "[Install]\nWantedBy=multi-user.target\n" }] } }));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).systemd, { units: [{ name: "a.service", enabled: true, contents: "[Install]\nWantedBy=multi-user.target\n" }] });
  });

  it("checks all files given and exits with the worst status", () => {
    const r = flint(["validate", "examples/demo.ign", `${FIXTURES}/invalid.ign`, join(tmp, "missing.ign")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^test\/fixtures\/configs\/invalid\.ign: error: storage\.files\.1\.path/m);
    assert.equal(flint(["validate", "examples/demo.ign", `${FIXTURES}/invalid.ign`]).status, 1);
  });

  it("accepts 3.7.0-experimental only with --experimental", () => {
    assert.equal(flint(["validate", `${FIXTURES}/experimental.ign`]).status, 1);
    assert.equal(flint(["validate", "--experimental", `${FIXTURES}/experimental.ign`]).status, 0);
  });

  it("translates the seed example to the equivalent 3.6.0 config", () => {
    const r = flint(["translate", "examples/seed-2.2.ign"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      ignition: { version: "3.6.0" },
      storage: { links: [{ path: "/etc/systemd/system/multi-user.target.wants/my.service", target: "/etc/systemd/system/my.service" }] },
      systemd: { units: [{ name: "my.service", enabled: true, contents: "[Service]\nType=oneshot\nExecStart=/usr/bin/echo Hello World\n\n[Install]\nWantedBy=multi-user.target" }] },
    });
    assert.ok(r.stdout.startsWith('{\n  "ignition": {\n    "version": "3.6.0"'), "2-space indentation");
    const again = join(tmp, "translated.ign");
    writeFileSync(again, r.stdout);
    assert.equal(flint(["validate", again]).status, 0);
  });

  it("does not translate an invalid config", () => {
    const r = flint(["translate", `${FIXTURES}/invalid.ign`]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: storage\.files\.1\.path/);
  });

  it("translates a Butane config to the Ignition JSON Butane makes of it", () => {
    const name = "fcos-1.5.0-units-contents-local";
    const r = flint(["translate", "--files-dir", "test/fixtures/butane/files", `test/fixtures/butane/configs/${name}.bu`]);
    assert.equal(r.status, 0, r.stderr);
    const expected = JSON.parse(readFileSync(`test/fixtures/butane/expected/${name}.json`, "utf8"));
    assert.deepEqual(normalizeIgnition(JSON.parse(r.stdout)), normalizeIgnition(expected.ignition));
    assert.equal(JSON.parse(r.stdout).ignition.version, "3.4.0");
  });

  it("validates Butane with --strict and --files-dir, reporting YAML lines", () => {
    assert.equal(flint(["validate", "--strict", "examples/demo.bu"]).status, 0);
    const r = flint(["validate", "--strict", "test/fixtures/butane/configs/fcos-1.5.0-unused-key.bu"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: storage\.files\.0\.colour: unused key "colour" \(line 6, column 7\)$/m);
    const local = flint(["validate", "test/fixtures/butane/configs/fcos-1.1.0-local-contents.bu"]);
    assert.equal(local.status, 1);
    assert.match(local.stderr, /^error: storage\.files\.0\.contents\.local: local files are read from a files directory/m);
    assert.equal(flint(["validate", "--files-dir", "test/fixtures/butane/files", "test/fixtures/butane/configs/fcos-1.1.0-local-contents.bu"]).status, 0);
  });

  it("loads the YAML library only for YAML: JSON configs need no flint-yaml.js", () => {
    const lone = join(tmp, "lone");
    mkdirSync(lone);
    for (const file of ["flint.js", "flint-core.js"]) copyFileSync(join("dist", file), join(lone, file));
    const run = (file: string) => spawnSync(process.execPath, [join(lone, "flint.js"), "validate", file], { encoding: "utf8" });
    assert.equal(run("examples/demo.ign").status, 0);
    const yaml = run("examples/demo.bu");
    assert.equal(yaml.status, 1);
    assert.match(yaml.stderr, /flint-yaml\.js is missing beside flint\.js/);
  });

  it("runs through the V8 code cache made at build time, and without it or with a stale one just compiles", () => {
    const dir = join(tmp, "cache");
    mkdirSync(dir);
    for (const file of ["flint.js", "flint-core.js"]) copyFileSync(join("dist", file), join(dir, file));
    const run = () => spawnSync(process.execPath, [join(dir, "flint.js"), "--log-level", "debug", "validate", "examples/demo.ign"], { encoding: "utf8" });
    const cacheState = (r: ReturnType<typeof run>) => {
      assert.equal(r.status, 0, r.stderr);
      return /V8 code cache: (\w+)/.exec(r.stderr)?.[1];
    };
    assert.equal(cacheState(run()), "absent");
    copyFileSync("dist/flint-core.v8cache", join(dir, "flint-core.v8cache"));
    assert.equal(cacheState(run()), "used");
    const source = readFileSync("dist/flint-core.js", "utf8");
    // A cache made from another build (its first line names another core): not even offered to V8.
    writeFileSync(join(dir, "flint-core.js"), source.replace(/^\/\/flint-core [0-9a-f]+/, "//flint-core 0123"));
    assert.equal(cacheState(run()), "stale");
    // The same build's line but other source: V8's own check refuses it.
    writeFileSync(join(dir, "flint-core.js"), source + "\n;");
    assert.equal(cacheState(run()), "rejected");
  });

  it("applies a config of 0 bytes as no config, as Ignition does (general.empty, preemption.no.config)", () => {
    const root = join(tmp, "empty-root");
    mkdirSync(root);
    const apply = flint(["apply", "--config", `${FIXTURES}/empty.ign`, "--root", root]);
    assert.equal(apply.status, 0, apply.stderr);
    assert.match(apply.stdout + apply.stderr, /is empty \(0 bytes\): no config/);
    // Only the result report is written.
    assert.deepEqual((readdirSync(root, { recursive: true }) as string[]).sort(), ["etc", "etc/.flint-result.json"]);
  });

  it("plans and applies a Butane config on a directory root, local files from --files-dir", () => {
    const root = join(tmp, "butane-root");
    mkdirSync(root);
    const args = ["--config", "test/fixtures/butane/configs/fcos-1.1.0-local-contents.bu", "--root", root, "--files-dir", "test/fixtures/butane/files"];
    const plan = flint(["plan", ...args]);
    assert.equal(plan.status, 0, plan.stderr);
    assert.match(plan.stdout, /\/etc\/motd/);
    const apply = flint(["apply", ...args]);
    assert.equal(apply.status, 0, apply.stderr);
    assert.equal(readFileSync(join(root, "etc/motd"), "utf8"), readFileSync("test/fixtures/butane/files/motd.txt", "utf8"));
    assert.deepEqual(readFileSync(join(root, "var/lib/random.bin")), readFileSync("test/fixtures/butane/files/random.bin"));
  });
});
