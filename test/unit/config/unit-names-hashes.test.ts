// Unit and drop-in names as systemd takes them, and password hashes that
// cannot break a shadow line: each rejected with its JSON path, never quoting
// a hash.

import assert from "node:assert/strict";
import { doc, errorLines, parse, warningLines } from "./helpers";

const units = (...names: string[]) => doc("3.4.0", { systemd: { units: names.map((name) => ({ name })) } });
const dropin = (name: string) => doc("3.4.0", { systemd: { units: [{ name: "a.service", dropins: [{ name, contents: "[Service]\n" }] }] } });

describe("unit names follow systemd's rules", () => {
  const GOOD = ["a.service", "getty@tty1.service", "getty@.service", "foo@bar@baz.service", "-.mount", "-.slice", "dev-disk-by\\x2dlabel-ROOT.device", "a:b_c.d-e.timer", "x." + "y".repeat(240) + ".socket", "old.snapshot"];
  for (const name of GOOD) {
    it(`accepts ${JSON.stringify(name.length > 40 ? name.slice(0, 20) + "…" : name)}`, () => {
      parse(units(name));
    });
  }

  const BAD: [string, RegExp][] = [
    ["--root=.service", /must not begin with "-"/],
    ["-x.service", /must not begin with "-"/],
    ["-Hevil.service", /must not begin with "-"/],
    ["--.service", /must not begin with "-"/],
    ["a\nb.service", /must not contain control characters/],
    ["@x.service", /nothing before "@"/],
    ["@.service", /nothing before "@"/],
    [".service", /must end in a unit type/],
    ["a.exe", /must end in a unit type/],
    ["service", /must end in a unit type/],
    ["../x.service", /must not contain "\/"/],
    ["x".repeat(248) + ".service", /256 characters long; systemd allows at most 255/],
  ];
  for (const [name, message] of BAD) {
    it(`rejects ${JSON.stringify(name.length > 40 ? name.slice(0, 20) + "…" : name)} with the JSON path`, () => {
      const lines = errorLines(units("ok.service", name));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, /^systemd\.units\.1\.name: /);
      assert.match(lines[0]!, message);
    });
  }
});

describe("unit names systemd would not load, which Ignition writes", () => {
  for (const name of ["a b.service", "é.service", "a$x.service"]) {
    it(`accepts ${JSON.stringify(name)} with a warning at its JSON path`, () => {
      const lines = warningLines(units("ok.service", name));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, /^systemd\.units\.1\.name: unit name .* has characters systemd does not allow, so it will not load it/);
    });
  }
});

describe("drop-in names are plain file names", () => {
  it("accepts 10-x.conf", () => {
    parse(dropin("10-x.conf"));
  });
  for (const [name, message] of [
    ["a/b.conf", /must not contain "\/"/],
    ["x", /must end in "\.conf"/],
    ["a\tb.conf", /control characters/],
    ["x".repeat(251) + ".conf", /256 bytes long; a file name is at most 255/],
  ] as [string, RegExp][]) {
    it(`rejects ${JSON.stringify(name.slice(0, 20))} with the JSON path`, () => {
      const lines = errorLines(dropin(name));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, /^systemd\.units\.0\.dropins\.0\.name: /);
      assert.match(lines[0]!, message);
    });
  }
  it("warns that systemd skips a hidden drop-in", () => {
    assert.match(warningLines(dropin(".x.conf")).join("\n"), /^systemd\.units\.0\.dropins\.0\.name: systemd skips drop-ins whose names begin with "\."/);
  });
});

describe("password hashes cannot break a shadow line", () => {
  const HASH = "$6$abc:0:0:x";
  for (const [section, hash, message] of [
    ["users", HASH, /must not contain ":"/],
    ["users", "$6$abc\nroot", /line breaks or other control characters/],
    ["users", "$6$a\u0000b", /control characters/],
    ["groups", "$6$x:y", /must not contain ":"/],
  ] as [string, string, RegExp][]) {
    it(`rejects ${JSON.stringify(hash)} for ${section}, naming the path and not the hash`, () => {
      const lines = errorLines(doc("3.4.0", { passwd: { [section]: [{ name: "core", passwordHash: hash }] } }));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, new RegExp(`^passwd\\.${section}\\.0\\.passwordHash: `));
      assert.match(lines[0]!, message);
      assert.ok(!lines[0]!.includes("abc"), lines[0]);
    });
  }
  it("accepts crypt hashes, '*' and '!'", () => {
    parse(doc("3.4.0", { passwd: { users: [{ name: "a", passwordHash: "$6$rounds=5000$salt$" + "A./z".repeat(20) }, { name: "b", passwordHash: "*" }, { name: "c", passwordHash: "!" }] } }));
  });
});
