// Reading what Butane v0.19.0 and Ignition v2.17.0 read (issue 27): each
// class of difference the differential run found, pinned to what the real
// tools do (checked by hand against ../shared/anchors when these were written).

import assert from "node:assert/strict";
import { formatIssue, type ParseOptions } from "../../../agent/config/index";
import { forgetSecrets } from "../../../agent/secrets";
import { scanJson } from "../../../agent/config/text";
import { errorLines as errorsOf, outcome, warningLines as warningsOf } from "./helpers";

/** The Ignition document a Butane config becomes. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function ignitionOf(text: string, options: ParseOptions = {}): any {
  const r = outcome(text, options);
  assert.ok(r.ok, r.ok ? "" : r.error.errors.map(formatIssue).join("\n"));
  return r.parsed.butane!.ignition;
}

const ign = (body: object, version = "3.4.0") => JSON.stringify({ ignition: { version }, ...body });

describe("configs read as Butane and Ignition read them", () => {
  afterEach(() => forgetSecrets());

  describe("generated entries merged as Ignition merges", () => {
    const bootDevice = "variant: fcos\nversion: 1.4.0\nboot_device:\n  luks:\n    tpm2: true\n";

    it("replaces only the user's last entry matching a generated one; earlier ones go", () => {
      const text = bootDevice + "storage:\n  filesystems:\n    - device: /dev/mapper/root\n      format: ext4\n      label: first\n    - device: /dev/mapper/root\n      label: root2\n";
      const fs = ignitionOf(text).storage.filesystems;
      assert.deepEqual(fs, [{ device: "/dev/mapper/root", format: "xfs", label: "root2", wipeFilesystem: true }]);
    });

    it("keeps the user's own duplicates, and names them by the user's indices", () => {
      const text = bootDevice + "storage:\n  filesystems:\n    - device: /dev/sdb\n      format: ext4\n    - device: /dev/mapper/root\n      format: ext4\n    - device: /dev/sdb\n      format: xfs\n";
      assert.deepEqual(errorsOf(text), ['storage.filesystems.2.device: duplicate filesystem device "/dev/sdb" (already used by storage.filesystems.0) (line 12, column 15)']);
    });

    it("drops a generated mount unit's drop-ins when the user's last entry for it has none", () => {
      const text =
        "variant: fcos\nversion: 1.4.0\nstorage:\n  filesystems:\n    - device: /dev/sdb\n      format: ext4\n      path: /var\n      with_mount_unit: true\n" +
        "systemd:\n  units:\n    - name: var.mount\n      dropins:\n        - name: a.conf\n          contents: \"[Unit]\"\n    - name: var.mount\n      enabled: false\n";
      const units = ignitionOf(text).systemd.units;
      assert.equal(units.length, 1);
      assert.equal(units[0]!.enabled, false);
      assert.equal(units[0]!.dropins, undefined);
    });
  });

  describe("HTTP headers", () => {
    const withHeaders = (headers: object[]) => ign({ storage: { files: [{ path: "/a", contents: { source: "http://127.0.0.1/a", httpHeaders: headers } }] } });

    it("a header without a name is an error with path, line and column, not a crash", () => {
      assert.deepEqual(errorsOf(withHeaders([{ value: "v" }])), ["storage.files.0.contents.httpHeaders.0.name: name is required (line 1, column 123)"]);
      const bu = "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /a\n      contents:\n        source: http://127.0.0.1/a\n        http_headers:\n          - value: v\n";
      assert.deepEqual(errorsOf(bu), ["storage.files.0.contents.http_headers.0: name is required (line 9, column 13)"]);
    });

    it("an empty value is refused, a missing one is not; names are compared as written", () => {
      assert.deepEqual(errorsOf(withHeaders([{ name: "a", value: "" }])).map((e) => e.replace(/ \(line.*/, "")), [
        "storage.files.0.contents.httpHeaders.0.value: header value must not be empty (leave it out to remove a header a merged parent sets)",
      ]);
      assert.deepEqual(warningsOf(withHeaders([{ name: "a" }, { name: "X-A", value: "1" }, { name: "x-a", value: "2" }])), []);
      assert.match(errorsOf(withHeaders([{ name: "a", value: "1" }, { name: "a", value: "2" }]))[0]!, /httpHeaders\.1\.name: duplicate HTTP header "a" \(already used by storage\.files\.0\.contents\.httpHeaders\.0\)/);
    });
  });

  describe("key case, as Go's encoding/json matches keys", () => {
    it("reads a field spelled in another case, and warns at the key", () => {
      const r = outcome(ign({ storage: { files: [{ path: "/a", Mode: 0o755 }] } }));
      assert.ok(r.ok);
      assert.equal(r.parsed.config.storage!.files!.at(0)!.mode, 0o755);
      assert.deepEqual(r.parsed.warnings.map(formatIssue), ['storage.files.0.Mode: key "Mode" is read as "mode", as Ignition matches keys regardless of case; write it "mode" (line 1, column 66)']);
    });

    it("finds the version under any case, in 3.x and 2.x", () => {
      const r = outcome('{"IGNITION":{"Version":"3.4.0"},"Storage":{"Files":[{"Path":"/x"}]}}');
      assert.ok(r.ok);
      assert.equal(r.parsed.specVersion, "3.4.0");
      assert.equal(r.parsed.config.storage!.files!.at(0)!.path, "/x");
      // As Ignition's unused-key check, nothing below a key spelled otherwise is warned about.
      assert.deepEqual(r.parsed.warnings.map((w) => w.path.join(".")), ["IGNITION", "Storage"]);
      const v2 = outcome('{"Ignition":{"VERSION":"2.2.0"},"storage":{"files":[{"filesystem":"root","path":"/x","MODE":420}]}}');
      assert.ok(v2.ok);
      assert.equal(v2.parsed.config.storage!.files!.at(0)!.mode, 420);
    });

    it("merges an object spelled twice as Go decodes into the struct already there", () => {
      const r = outcome('{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a"}]},"Storage":{"directories":[{"path":"/d"}]},"IGNITION":{}}');
      assert.ok(r.ok);
      assert.deepEqual(r.parsed.config.storage, { files: [{ path: "/a" }], directories: [{ path: "/d" }] });
    });

    it("takes the last of several spellings in the document, and folds the Kelvin sign and long s as Go does", () => {
      const mode = (text: string) => outcome(text).parsed!.config.storage!.files!.at(0)!.mode;
      assert.equal(mode('{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","mode":420,"Mode":493}]}}'), 493);
      assert.equal(mode('{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","Mode":420,"mode":493}]}}'), 493);
      const units = (outcome('{"ignition":{"version":"3.4.0"},"systemd":{"units":[{"name":"a.service","ma\u017f\u212a":true}]}}') as { parsed: { config: { systemd: { units: { mask?: boolean }[] } } } }).parsed.config.systemd.units;
      assert.equal(units[0]!.mask, true);
    });

    it("leaves Butane's YAML keys case-sensitive, as Butane does", () => {
      assert.deepEqual(warningsOf("variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /a\n      Mode: 0755\n"), ['storage.files.0.Mode: unused key "Mode" (line 6, column 7)']);
    });
  });

  describe("Butane detected as Butane reads YAML", () => {
    it("a broken Ignition config is still JSON (its syntax error, not Butane's)", () => {
      assert.deepEqual(errorsOf('{"ignition": {"version": "3.4.0"}'), ["invalid JSON: expected ',' or '}' (line 1, column 34)"]);
    });

    it("JSON with both ignition and variant is an Ignition config", () => {
      assert.deepEqual(warningsOf('{"ignition": {"version": "3.4.0"}, "variant": "fcos"}'), ['variant: unknown key "variant" ignored (line 1, column 36)']);
    });
  });

  describe("warnings as the references give them", () => {
    it("an enabled unit is warned about when its contents are not empty and set nothing under [Install]", () => {
      const units = (contents: string[]) => ign({ systemd: { units: contents.map((c, i) => ({ name: `u${i}.service`, enabled: true, contents: c })) } });
      assert.deepEqual(warningsOf(units(["", "[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\n"])), []);
      assert.deepEqual(
        warningsOf(units(["[Unit]\nDescription=x\n[Install]\n", "# only a comment\n", "\n"])).map((w) => w.replace(/ \(line.*/, "")),
        [0, 1, 2].map((i) => `systemd.units.${i}.contents: unit u${i}.service is enabled, but has no [Install] section, so enabling does nothing`),
      );
    });

    it("mountOptions without a path are no warning (Ignition has none)", () => {
      assert.deepEqual(warningsOf(ign({ storage: { filesystems: [{ device: "/dev/sde", format: "xfs", mountOptions: ["noatime"] }] } })), []);
    });

    it("Butane's warning for Fedora CoreOS's partition labels under another number, fcos only", () => {
      const disk = "storage:\n  disks:\n    - device: /dev/vda\n      partitions:\n        - label: root\n          number: 4\n        - label: boot\n";
      assert.deepEqual(warningsOf("variant: fcos\nversion: 1.4.0\n" + disk), [
        'storage.disks.0.partitions.1.label: partition label "boot" is Fedora CoreOS\'s partition 3; with number 0 a new partition is made with that label (line 9, column 18)',
      ]);
      assert.deepEqual(warningsOf("variant: flatcar\nversion: 1.1.0\n" + disk), []);
    });
  });

  describe("what the references refuse", () => {
    const strip = (lines: string[]) => lines.map((l) => l.replace(/ \(line.*/, ""));
    const file = (source: string) => ign({ storage: { files: [{ path: "/a", contents: { source } }] } });

    it("a raw space in a data URL, a bad percent escape in any URL outside its query", () => {
      assert.match(errorsOf(file("data:,a b"))[0]!, /invalid data URL: a character a URL cannot hold as written/);
      assert.match(errorsOf(file("data:,%zz"))[0]!, /invalid data URL: bad percent-encoding/);
      assert.match(errorsOf(file("http://127.0.0.1/%zz"))[0]!, /invalid URL "http:\/\/127.0.0.1\/%zz": bad percent-encoding/);
      assert.deepEqual(warningsOf(file("http://127.0.0.1/a?q=%zz")), []);
    });

    it("an empty proxy URL", () => {
      assert.deepEqual(strip(errorsOf(ign({ ignition: { version: "3.4.0", proxy: { httpProxy: "" } } }))), ["ignition.proxy.httpProxy: a proxy URL must not be empty (leave the field out for no proxy)"]);
    });

    it("an integer written with a fraction or an exponent, where the field is known (3.x and 2.x)", () => {
      assert.deepEqual(strip(errorsOf('{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","mode":420.0,"other":4.2e2}]}}')), [
        "storage.files.0.mode: must be an integer, not 420.0 (Ignition refuses a fraction or an exponent)",
      ]);
      assert.deepEqual(strip(errorsOf('{"ignition":{"version":"2.2.0"},"passwd":{"users":[{"name":"u","uid":1e3}]}}')), ["passwd.users.0.uid: must be an integer, not 1e3 (Ignition refuses a fraction or an exponent)"]);
      assert.deepEqual(strip(errorsOf('{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/a","MODE":4.2E2}]}}')), ["storage.files.0.MODE: must be an integer, not 4.2E2 (Ignition refuses a fraction or an exponent)"]);
    });

    it("the scan parsing makes anyway tells whether a number is written so (true, false and strings aside)", () => {
      assert.equal(scanJson('{"a":true,"b":false,"c":"1.5e3 E.","d":[10,-3]}').fractionalNumbers, false);
      for (const n of ["1.0", "1e3", "1E3", "-0.5"]) assert.equal(scanJson(`{"a":true,"d":${n}}`).fractionalNumbers, true, n);
    });

    it("unit contents as Ignition's unit parser reads them: any line with '=' is a setting, a header is '[' to the first ']'", () => {
      const units = (contents: string) => ign({ systemd: { units: [{ name: "a.service", contents }] } });
      for (const ok of ["[Unit]\n=b\n", "[Unit]\nA b=c\n", "[]\nA=b\n", "[a[b]\nA=b\n"]) assert.deepEqual(warningsOf(units(ok)), [], ok);
      for (const bad of ["[Unit]\ngarbage line\n", "[Unit\nA=b\n", "[Unit]\nA=b\n[Service]]\n"]) assert.equal(errorsOf(units(bad)).length, 1, bad);
    });

    it("repeats Ignition refuses: merge sources, noProxy, LUKS openOptions, a user's groups, RAID devices, kernel arguments", () => {
      const config = ign({
        ignition: { version: "3.4.0", config: { merge: [{ source: "http://127.0.0.1/a" }, { source: "http://127.0.0.1/a" }] }, proxy: { noProxy: ["a", "a"] } },
        storage: { luks: [{ name: "v", device: "/dev/vdb", openOptions: ["--x", "--x"], options: ["--y", "--y"] }], raid: [{ name: "md", level: "raid1", devices: ["/dev/vdc", "/dev/vdc"], options: ["z", "z"] }] },
        passwd: { users: [{ name: "u", groups: ["g", "g"] }] },
        kernelArguments: { shouldExist: ["k", "k"], shouldNotExist: ["m", "m"] },
      });
      assert.deepEqual(strip(errorsOf(config)), [
        "ignition.config.merge.1.source: duplicate merged config source (already used by ignition.config.merge.0)",
        'ignition.proxy.noProxy.1: duplicate noProxy entry "a" (already used by ignition.proxy.noProxy.0)',
        'storage.luks.0.openOptions.1: duplicate open option "--x" (already used by storage.luks.0.openOptions.0)',
        'storage.raid.0.devices.1: duplicate RAID member device "/dev/vdc" (already used by storage.raid.0.devices.0)',
        'passwd.users.0.groups.1: duplicate group "g" (already used by passwd.users.0.groups.0)',
        'kernelArguments.shouldExist.1: duplicate kernel argument "k" (already used by kernelArguments.shouldExist.0)',
        'kernelArguments.shouldNotExist.1: duplicate kernel argument "m" (already used by kernelArguments.shouldNotExist.0)',
      ]);
    });
  });
});
