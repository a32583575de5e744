import assert from "node:assert/strict";
import { ConfigInvalidError, parseConfig } from "../../../agent/config/index";
import { doc, errorLines, parse, rejected, warningLines } from "./helpers";

describe("config parsing", () => {
  describe("spec versions", () => {
    for (const version of ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.5.0", "3.6.0", "2.0.0", "2.1.0", "2.2.0", "2.3.0"]) {
      it(`accepts spec ${version} and returns the newest 3.x model`, () => {
        const parsed = parse(doc(version));
        assert.equal(parsed.specVersion, version);
        assert.equal(parsed.config.ignition.version, "3.6.0");
      });
    }

    it("rejects 3.7.0-experimental unless explicitly allowed", () => {
      const [line] = errorLines(doc("3.7.0-experimental"));
      assert.match(line!, /^ignition\.version: spec version 3\.7\.0-experimental is experimental/);
      const parsed = parse(doc("3.7.0-experimental"), { allowExperimental: true });
      assert.equal(parsed.config.ignition.version, "3.7.0-experimental");
    });

    it("rejects unsupported and malformed versions, naming them", () => {
      assert.match(errorLines(doc("3.8.0"))[0]!, /unsupported spec version 3\.8\.0/);
      assert.match(errorLines(doc("1.0.0"))[0]!, /unsupported spec version 1\.0\.0/);
      assert.match(errorLines(doc("3.6.0-experimental"))[0]!, /unsupported spec version/);
      assert.match(errorLines(doc("three"))[0]!, /invalid spec version "three"/);
    });

    it("requires ignition.version as a string", () => {
      assert.deepEqual(errorLines({ storage: {} }), ['ignition: the "ignition" section (with its version) is required (line 1, column 1)']);
      assert.match(errorLines({ ignition: {} })[0]!, /^ignition\.version: ignition\.version is required/);
      assert.match(errorLines({ ignition: { version: 3 } })[0]!, /^ignition\.version: ignition\.version must be a string \(line 3, column 16\)/);
    });
  });

  describe("malformed input", () => {
    it("reports invalid JSON with its line and column", () => {
      const text = '{\n  "ignition": {"version": "3.0.0"},\n  "storage": {"files": [}\n}';
      const e = rejected(text);
      assert.equal(e.errors.length, 1);
      assert.deepEqual({ line: e.errors[0]!.line, column: e.errors[0]!.column }, { line: 3, column: 25 });
      assert.match(e.errors[0]!.message, /^invalid JSON: /);
    });

    it("reports trailing garbage and comments as invalid JSON", () => {
      assert.match(errorLines('{"ignition":{"version":"3.0.0"}} x')[0]!, /invalid JSON.*\(line 1, column 34\)/);
      assert.match(errorLines('{"ignition":{"version":"3.0.0"} // hi\n}')[0]!, /invalid JSON: comments are not allowed/);
    });

    it("rejects an empty file and a blank one", () => {
      assert.deepEqual(errorLines(""), ["the config is empty"]);
      assert.deepEqual(errorLines(Buffer.alloc(0)), ["the config is empty"]);
      assert.deepEqual(errorLines(" \n\t"), ["the config is empty"]);
    });

    it("rejects strings that are not well-formed Unicode (a lone surrogate), with path, line and column, in any field", () => {
      // Written out, both would be "/etc/a\ufffd": one file, the second silently replacing the first.
      const text = '{"ignition": {"version": "3.4.0"},\n "storage": {"files": [{"path": "/etc/a\\ud800"}, {"path": "/etc/a\\udc00"}]},\n "passwd": {"users": [{"name": "core", "sshAuthorizedKeys": ["ssh-ed25519 \\udfff"]}]}}';
      assert.deepEqual(errorLines(text), [
        "storage.files.0.path: must be well-formed Unicode: character 7 is a lone surrogate (\\ud800), which UTF-8 cannot encode (line 2, column 33)",
        "storage.files.1.path: must be well-formed Unicode: character 7 is a lone surrogate (\\udc00), which UTF-8 cannot encode (line 2, column 59)",
        "passwd.users.0.sshAuthorizedKeys.0: must be well-formed Unicode: character 13 is a lone surrogate (\\udfff), which UTF-8 cannot encode (line 3, column 62)",
      ]);
      // A pair is one character, and fine.
      assert.equal(parse('{"ignition": {"version": "3.4.0"}, "storage": {"files": [{"path": "/etc/\\ud83d\\ude00"}]}}').config.storage!.files!.at(0)!.path, "/etc/\u{1F600}");
    });

    it("rejects bytes that are not UTF-8, naming the offset", () => {
      const bytes = Buffer.concat([Buffer.from('{"ignition":{"version":"3.0.0"},"x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      assert.deepEqual(errorLines(bytes), ["the config is not valid UTF-8 text (first bad byte at offset 37)"]);
    });

    it("accepts a UTF-8 byte order mark", () => {
      const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(doc("3.0.0")))]);
      assert.equal(parseConfig(bytes).specVersion, "3.0.0");
    });

    it("rejects 100,000 nested arrays with a clear error instead of overflowing the stack", () => {
      const text = `{"ignition":{"version":"3.0.0"},"x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
      assert.deepEqual(errorLines(text), ["JSON nesting is deeper than 100 levels (line 1, column 136)"]);
    });

    it("rejects a document that is not an object", () => {
      assert.deepEqual(errorLines("[]"), ["a config must be a JSON object (line 1, column 1)"]);
      assert.deepEqual(errorLines('"3.0.0"'), ["a config must be a JSON object (line 1, column 1)"]);
    });

    it("reports wrong types with the JSON path, line and column", () => {
      const text = ['{"ignition": {"version": "3.0.0"},', ' "storage": {"files": [', '   {"path": "/a", "mode": "0644"},', '   {"path": 7, "overwrite": "yes"}', " ]}}"].join("\n");
      assert.deepEqual(errorLines(text), [
        "storage.files.0.mode: must be an integer, not a string (line 3, column 27)",
        "storage.files.1.path: must be a string, not the number 7 (line 4, column 13)",
        "storage.files.1.overwrite: must be true or false, not a string (line 4, column 29)",
      ]);
      assert.match(errorLines(doc("3.0.0", { storage: { files: [{ path: "/a", mode: 4.5 }] } }))[0]!, /mode: must be an integer, not 4\.5/);
      assert.match(errorLines(doc("3.0.0", { storage: { files: {} } }))[0]!, /^storage\.files: must be a list, not an object/);
      assert.match(errorLines(doc("3.0.0", { systemd: [] }))[0]!, /^systemd: must be an object, not a list/);
    });

    it("lists every error of a document, in document order", () => {
      const lines = errorLines(doc("3.0.0", { storage: { files: [{ path: "a" }, { path: "b/" }], links: [{ path: "/l" }] } }));
      assert.equal(lines.length, 3);
      assert.match(lines[0]!, /^storage\.files\.0\.path: path must be absolute/);
      assert.match(lines[1]!, /^storage\.files\.1\.path: path must be absolute/);
      assert.match(lines[2]!, /^storage\.links\.0\.target: target is required/);
    });

    it("parses a 50 MB config (10 MiB is only the cap for fetched configs)", function () {
      this.timeout(120_000);
      const files = [];
      const filler = "x".repeat(1000);
      for (let i = 0; files.length * 1000 < 52 * 1024 * 1024; i++) files.push({ path: `/var/lib/big/${i}`, contents: { source: `data:,${filler}` }, mode: 420 });
      const text = JSON.stringify(doc("3.0.0", { storage: { files } }));
      assert.ok(text.length > 50 * 1024 * 1024);
      assert.equal(parseConfig(text).config.storage!.files!.length, files.length);
    });

    it("finds the position of an error near the end of a 50 MB config", function () {
      this.timeout(120_000);
      const files = [];
      for (let i = 0; i < 48_000; i++) files.push({ path: `/var/lib/big/${i}`, contents: { source: `data:,${"y".repeat(1000)}` } });
      files.push({ path: "relative" });
      const text = JSON.stringify(doc("3.0.0", { storage: { files } }), null, 1);
      const e = rejected(text);
      assert.equal(e.errors.length, 1);
      assert.equal(e.errors[0]!.path.join("."), "storage.files.48000.path");
      assert.ok(e.errors[0]!.line! > 250_000);
    });

    it("never lets a non-config exception escape for odd but valid JSON", () => {
      for (const text of ["null", "0", "true", '{"ignition":null}', '{"ignition":{"version":null}}', '{"ignition":{"version":"3.0.0","config":null},"storage":null}']) {
        try {
          parseConfig(text);
        } catch (e) {
          assert.ok(e instanceof ConfigInvalidError, `${text}: ${String(e)}`);
        }
      }
    });
  });

  describe("unknown keys", () => {
    it("warns about an unknown key, naming it and its position, and drops it", () => {
      const text = '{"ignition": {"version": "3.0.0"},\n "storage": {"files": [{"path": "/a", "colour": "red"}]}}';
      const parsed = parse(text);
      assert.deepEqual(parsed.warnings.map((w) => [w.path.join("."), w.message, w.line, w.column]), [["storage.files.0.colour", 'unknown key "colour" ignored', 2, 39]]);
      assert.deepEqual(parsed.config.storage!.files!.at(0)!, { path: "/a" });
    });

    it("warns about a key that only a later spec version has, and drops it", () => {
      const lines = warningLines(doc("3.0.0", { storage: { filesystems: [{ device: "/dev/sdb", format: "ext4", path: "/srv", mountOptions: ["noatime"] }] } }));
      assert.deepEqual(lines, ['storage.filesystems.0.mountOptions: unknown key "mountOptions" ignored: it needs spec 3.1.0 or later, and this config is 3.0.0 (line 11, column 9)']);
    });

    it("treats JSON null as an absent field", () => {
      const parsed = parse(doc("3.0.0", { storage: { files: [{ path: "/a", mode: null, contents: null }] } }));
      assert.deepEqual(parsed.config.storage!.files!.at(0)!, { path: "/a" });
      assert.deepEqual(parsed.warnings, []);
    });
  });
});
