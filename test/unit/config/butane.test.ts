// Butane configs: Flint's translation of every fixture against what the real
// Butane v0.19.0 produced for it (recorded once in test/fixtures/butane/expected/
// by scripts/butane-compare.mjs --write-expected, so no binary is needed here),
// and the errors a person gets: YAML path, line and column.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatIssue, locateInSources, parseConfig, type ParseOptions } from "../../../agent/config/index";
import { forgetSecrets, redact } from "../../../agent/secrets";
import { normalizeIgnition } from "../../../scripts/lib/butane-normalize.mjs";
import { outcome } from "./helpers";

const FIXTURES = join(__dirname, "../../fixtures/butane");
const FILES = join(FIXTURES, "files");

interface Expected {
  accepted: boolean;
  strictAccepted: boolean;
  warnings: string[];
  errors?: string[];
  ignition?: unknown;
}

function errorsOf(text: string, options: ParseOptions = {}): string[] {
  const r = outcome(text, options);
  assert.equal(r.ok, false, "expected the config to be rejected");
  return r.ok ? [] : r.error.errors.map(formatIssue);
}

const names = readdirSync(join(FIXTURES, "configs"))
  .filter((n) => n.endsWith(".bu"))
  .map((n) => n.slice(0, -3))
  .sort();

describe("Butane configs against the real Butane's output", () => {
  // Parsing remembers each config's secrets for scrubbing, process-wide: leave none to later tests.
  afterEach(() => forgetSecrets());
  it("has at least 60 fixtures, over both variants and every version", () => {
    assert.ok(names.length >= 60, `only ${names.length} fixtures`);
    for (const v of ["fcos-1.0.0", "fcos-1.1.0", "fcos-1.2.0", "fcos-1.3.0", "fcos-1.4.0", "fcos-1.5.0", "fcos-1.6.0-experimental", "flatcar-1.0.0", "flatcar-1.1.0", "flatcar-1.2.0-experimental"]) {
      assert.ok(names.some((n) => n.startsWith(v + "-")), `no fixture for ${v}`);
    }
  });

  for (const name of names) {
    it(name, () => {
      const text = readFileSync(join(FIXTURES, "configs", `${name}.bu`), "utf8");
      const expected = JSON.parse(readFileSync(join(FIXTURES, "expected", `${name}.json`), "utf8")) as Expected;
      const options: ParseOptions = { filesDir: FILES, allowExperimental: true };
      const r = outcome(text, options);
      const detail = r.ok ? "" : r.error.errors.map(formatIssue).join("\n");
      assert.equal(r.ok, expected.accepted, `accepted: Butane ${expected.accepted}, Flint ${r.ok}\n${detail}`);
      const warnings = r.ok ? r.parsed.warnings : r.error.warnings;
      assert.deepEqual([...new Set(warnings.map((w) => w.path.join(".")))].sort(), [...expected.warnings].sort(), "warnings on other fields than Butane's");
      if (r.ok) assert.deepEqual(normalizeIgnition(r.parsed.butane?.ignition), normalizeIgnition(expected.ignition));
      assert.equal(outcome(text, { ...options, strict: true }).ok, expected.strictAccepted, "accepted with --strict");
    });
  }
});

describe("Butane configs: what a person is told", () => {
  afterEach(() => forgetSecrets());
  it("names the YAML path, line and column of an Ignition rule broken in the output", () => {
    assert.deepEqual(errorsOf("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: etc/motd\n"), ['storage.files.0.path: path must be absolute (got "etc/motd") (line 5, column 13)']);
  });

  it("names the path, line and column of a wrong type", () => {
    assert.deepEqual(errorsOf("variant: flatcar\nversion: 1.1.0\nsystemd:\n  units:\n    - name: a.service\n      enabled: maybe\n"), [
      'systemd.units.0.enabled: must be true or false, not the text "maybe" (line 6, column 16)',
    ]);
  });

  it("names the line and column of bad indentation, and the field being written", () => {
    const [error] = errorsOf("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n   mode: 0644\n");
    assert.match(error!, /^storage\.files\.0\.path: invalid YAML: bad indentation .* \(line 6, column \d+\)$/);
  });

  it("turns an unknown key into an error with --strict, at the key", () => {
    const text = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /a\n      colour: blue\n";
    assert.deepEqual(
      parseConfig(text).warnings.map(formatIssue),
      ['storage.files.0.colour: unused key "colour" (line 6, column 7)'],
    );
    assert.deepEqual(errorsOf(text, { strict: true }), ['storage.files.0.colour: unused key "colour" (line 6, column 7)']);
  });

  it("refuses local: without a files directory (as on a first boot), naming the line", () => {
    const [error] = errorsOf("variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        local: motd.txt\n");
    assert.match(error!, /^storage\.files\.0\.contents\.local: local files are read from a files directory, and none was given .* \(line 7, column 16\)$/);
  });

  it("refuses local paths and trees that leave the files directory", () => {
    const options = { filesDir: FILES };
    assert.match(errorsOf("variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /x\n      contents:\n        local: ../configs/fcos-1.5.0-minimal.bu\n", options)[0]!, /leaves the files directory/);
    assert.match(errorsOf("variant: fcos\nversion: 1.5.0\nstorage:\n  trees:\n    - local: ..\n", options)[0]!, /^storage\.trees\.0: .*leaves the files directory \(line 5, column 7\)$/);
  });

  it("refuses a symbolic link in the files directory that leads out of it", () => {
    const dir = mkdtempSync(join(tmpdir(), "flint-butane-links-"));
    try {
      writeFileSync(join(dir, "inside.txt"), "inside\n");
      symlinkSync("/etc/hostname", join(dir, "out"));
      symlinkSync("inside.txt", join(dir, "in"));
      const text = (local: string) => `variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /x\n      contents:\n        local: ${local}\n`;
      assert.deepEqual(errorsOf(text("out"), { filesDir: dir }), ['storage.files.0.contents.local: local path "out" leads out of the files directory (line 7, column 16)']);
      assert.equal(parseConfig(text("in"), { filesDir: dir }).config.storage?.files?.at(0)?.contents?.source, "data:,inside%0A");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a tree's files and links fill the config's entries at their paths, and refuse a path taken otherwise", () => {
    const dir = mkdtempSync(join(tmpdir(), "flint-butane-tree-"));
    try {
      writeFileSync(join(dir, "a.txt"), "a\n");
      symlinkSync("a.txt", join(dir, "l"));
      const head = "variant: fcos\nversion: 1.5.0\nstorage:\n  trees:\n    - local: .\n      path: /t\n";
      const parsed = parseConfig(head + "  files:\n    - path: /t/a.txt\n      mode: 0600\n", { filesDir: dir }).config.storage!;
      assert.deepEqual(parsed.files, [{ path: "/t/a.txt", mode: 0o600, contents: { compression: "", source: "data:,a%0A" } }]);
      assert.deepEqual(parsed.links, [{ path: "/t/l", target: "a.txt" }]);
      const errors = errorsOf(head + "  files:\n    - path: /t/a.txt\n      contents:\n        inline: b\n  directories:\n    - path: /t/l\n", { filesDir: dir });
      assert.deepEqual(
        errors.map((e) => e.replace(/ \(line.*$/, "")),
        ["storage.trees.0: /t/a.txt from the tree is already in the config with contents", "storage.trees.0: /t/l from the tree is already in the config as a file or directory"],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("points errors found at stage time into the YAML: the path written, with line and column", () => {
    const text = "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hi\n  filesystems:\n    - device: /dev/vdb\n      format: ext4\n      path: /var/srv\n      with_mount_unit: true\n";
    const { sources } = parseConfig(text, { source: "fw_cfg" });
    assert.deepEqual(locateInSources(sources, ["storage", "files", 0, "contents", "source"]), {
      document: "fw_cfg",
      path: ["storage", "files", 0, "contents", "inline"],
      position: { line: 7, column: 17 },
    });
    // the generated mount unit: where with_mount_unit asked for it
    assert.deepEqual(locateInSources(sources, ["systemd", "units", 0, "contents"]), {
      document: "fw_cfg",
      path: ["storage", "filesystems", 0, "with_mount_unit"],
      position: { line: 12, column: 24 },
    });
  });

  it("scrubs secrets that Butane's sugar hides in gzip-compressed data URLs (GRUB hashes, long contents)", () => {
    const line = "my-private-line-that-repeats ";
    const text = `variant: fcos\nversion: 1.5.0\ngrub:\n  users:\n    - name: root\n      password_hash: grub.pbkdf2.sha512.10000.SECRETHASHVALUE\nstorage:\n  files:\n    - path: /etc/secret\n      contents:\n        inline: "${line.repeat(20)}"\n`;
    try {
      const { config } = parseConfig(text);
      assert.equal([...(config.storage?.files ?? [])].find((f) => f.path === "/etc/secret")?.contents?.compression, "gzip");
      assert.doesNotMatch(redact("tool said: grub.pbkdf2.sha512.10000.SECRETHASHVALUE"), /SECRETHASHVALUE/);
      assert.doesNotMatch(redact(`tool said: ${line.repeat(20).trim()}`), /my-private-line/);
    } finally {
      forgetSecrets();
    }
  });

  it("keeps experimental versions behind allowExperimental", () => {
    assert.deepEqual(errorsOf("variant: fcos\nversion: 1.6.0-experimental\n"), [
      "version: Butane version 1.6.0-experimental is experimental; accept it explicitly (--experimental) (line 2, column 10)",
    ]);
    assert.equal(parseConfig("variant: fcos\nversion: 1.6.0-experimental\n", { allowExperimental: true }).butane?.ignitionVersion, "3.5.0-experimental");
  });

  it("names what is supported for an unknown variant or version", () => {
    assert.match(errorsOf("variant: fcos\nversion: 1.9.0\n")[0]!, /^version: unsupported Butane version "1\.9\.0" for variant fcos; Flint reads 1\.0\.0, .*1\.5\.0/);
    assert.match(errorsOf("variant: rhcos\nversion: 0.1.0\n")[0]!, /^variant: unsupported Butane variant "rhcos"/);
  });

  it("recognises Butane by its content, and JSON stays JSON", () => {
    const butane = parseConfig("# comment first\n\nversion: 1.0.0\nvariant: flatcar\n");
    assert.equal(butane.specVersion, "butane flatcar 1.0.0");
    assert.equal(butane.butane?.ignitionVersion, "3.3.0");
    const json = parseConfig('{"ignition":{"version":"3.3.0"}}');
    assert.equal(json.butane, undefined);
  });

  it("gives the stages the 3.x model, with Butane's sugar applied", () => {
    const { config } = parseConfig("variant: fcos\nversion: 1.5.0\nstorage:\n  filesystems:\n    - device: /dev/vdb\n      format: xfs\n      path: /var/srv\n      with_mount_unit: true\n");
    assert.equal(config.ignition.version, "3.6.0");
    assert.equal(config.systemd?.units?.[0]?.name, "var-srv.mount");
    assert.equal(config.systemd?.units?.[0]?.enabled, true);
  });
});
