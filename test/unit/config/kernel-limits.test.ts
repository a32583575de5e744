// Values the kernel or a tool cannot take, refused with the JSON path before
// anything runs (found by the safety fuzz test: a 5,000-byte link target
// reached symlink(2), a NUL in a label reached spawn).

import assert from "node:assert/strict";
import { NAME_MAX, PATH_MAX, pathTooLong } from "../../../agent/config/validate/common";
import { doc, errorLines, parse } from "./helpers";

const link = (l: object) => doc("3.4.0", { storage: { links: [{ path: "/etc/l", ...l }] } });

describe("link targets", () => {
  it("accepts a symlink target of 4095 bytes, whatever its components", () => {
    parse(link({ target: "x".repeat(4095) }));
  });
  it("refuses a symlink target of 4096 bytes", () => {
    assert.match(errorLines(link({ target: "x".repeat(4096) })).join("\n"), /^storage\.links\.0\.target: target is 4096 bytes long; the limit is 4095 \(PATH_MAX\)/);
  });
  it("refuses a hard-link target with a component over NAME_MAX", () => {
    assert.match(errorLines(link({ hard: true, target: "/etc/" + "n".repeat(256) })).join("\n"), /^storage\.links\.0\.target: target has a component of 256 bytes/);
  });
  it("refuses a NUL in a target", () => {
    assert.match(errorLines(link({ target: "/a\u0000b" })).join("\n"), /^storage\.links\.0\.target: target must not contain a NUL character/);
  });
});

describe("path lengths in bytes", () => {
  /** The rule as the kernel counts: UTF-8 bytes of the whole path and of each component. */
  const byBytes = (p: string) => Buffer.byteLength(p) >= PATH_MAX || p.split("/").some((name) => Buffer.byteLength(name) > NAME_MAX);
  it("counts bytes, not characters, whatever the mix of 1-, 2-, 3- and 4-byte characters", () => {
    const names: string[] = [];
    for (const ch of ["n", "é", "€", "😀"]) {
      const perChar = Buffer.byteLength(ch);
      const fit = Math.floor(NAME_MAX / perChar);
      for (const k of [1, Math.floor(85 / ch.length), fit - 1, fit, fit + 1]) names.push(ch.repeat(k));
    }
    const paths = names.flatMap((name) => [`/${name}`, `/etc/${name}/x`, `/${`${name}/`.repeat(Math.ceil(PATH_MAX / Buffer.byteLength(`${name}/`)))}x`]);
    paths.push("/" + "a/".repeat(2047) + "b", "/" + "a/".repeat(2046) + "b", "/" + "€/".repeat(1023), "/" + "€/".repeat(1024), "");
    for (const p of paths) assert.equal(pathTooLong(p) !== undefined, byBytes(p), `${p.length} characters, ${Buffer.byteLength(p)} bytes`);
  });
});

describe("labels", () => {
  for (const [section, entry] of [
    ["filesystems", { device: "/dev/sdb", format: "ext4", label: "a\u0000b" }],
    ["luks", { name: "x", device: "/dev/sdb", label: "a\u0000b" }],
  ] as [string, object][]) {
    it(`refuses a NUL in a ${section} label`, () => {
      assert.match(errorLines(doc("3.4.0", { storage: { [section]: [entry] } })).join("\n"), new RegExp(`^storage\\.${section}\\.0\\.label: .*label must not contain a NUL character`, "m"));
    });
  }
  it("refuses a NUL in a partition label", () => {
    assert.match(errorLines(doc("3.4.0", { storage: { disks: [{ device: "/dev/sdb", partitions: [{ label: "a\u0000b" }] }] } })).join("\n"), /^storage\.disks\.0\.partitions\.0\.label: partition label must not contain a NUL character/m);
  });
});
