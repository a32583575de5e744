// The Butane versions Butane v0.29 calls stable (fcos 1.6.0 and 1.7.0, flatcar
// 1.0.0 and 1.1.0) and its experimental ones, with the Ignition spec each
// becomes (Butane's config/config.go registers them so), and what fcos 1.6
// and 1.7 add to boot_device.

import assert from "node:assert/strict";
import { ConfigInvalidError, formatIssue, parseConfig, type ParseOptions } from "../../../agent/config/index";
import { forgetSecrets } from "../../../agent/secrets";

function errorsOf(text: string, options: ParseOptions = {}): string[] {
  try {
    parseConfig(text, options);
  } catch (e) {
    if (e instanceof ConfigInvalidError) return e.errors.map(formatIssue);
    throw e;
  }
  assert.fail("expected the config to be rejected");
}

describe("Butane versions as Butane v0.29 has them", () => {
  afterEach(() => forgetSecrets());

  const STABLE: [string, string, string][] = [
    ["fcos", "1.5.0", "3.4.0"],
    ["fcos", "1.6.0", "3.5.0"],
    ["fcos", "1.7.0", "3.6.0"],
    ["flatcar", "1.0.0", "3.3.0"],
    ["flatcar", "1.1.0", "3.4.0"],
  ];
  for (const [variant, version, ignition] of STABLE) {
    it(`${variant} ${version} is stable and becomes Ignition ${ignition}`, () => {
      const parsed = parseConfig(`variant: ${variant}\nversion: ${version}\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        inline: hi\n`);
      assert.equal(parsed.butane?.ignitionVersion, ignition);
      assert.equal(parsed.specVersion, `butane ${variant} ${version}`);
    });
  }

  for (const [variant, version, ignition] of [["fcos", "1.8.0-experimental", "3.7.0-experimental"], ["flatcar", "1.2.0-experimental", "3.7.0-experimental"]] as const) {
    it(`${variant} ${version} becomes Ignition ${ignition}, only when experimental versions are accepted`, () => {
      const text = `variant: ${variant}\nversion: ${version}\n`;
      assert.match(errorsOf(text).join("\n"), /is experimental; accept it explicitly/);
      assert.equal(parseConfig(text, { allowExperimental: true }).butane?.ignitionVersion, ignition);
    });
  }

  it("keeps setuid bits in fcos 1.7.0 (Ignition 3.6.0) and warns about them in fcos 1.6.0 (3.5.0)", () => {
    const text = (v: string) => `variant: fcos\nversion: ${v}\nstorage:\n  files:\n    - path: /usr/local/bin/tool\n      mode: 04755\n`;
    const seven = parseConfig(text("1.7.0"));
    assert.equal(seven.config.storage!.files!.at(0)!.mode, 0o4755);
    assert.deepEqual(seven.warnings, []);
    const six = parseConfig(text("1.6.0"));
    assert.equal(six.config.storage!.files!.at(0)!.mode, 0o755);
    assert.deepEqual(six.warnings.map(formatIssue), ["storage.files.0.mode: setuid, setgid and sticky bits are applied only from spec 3.6.0: mode 04755 is applied as 0755 (line 6, column 13)"]);
  });

  it("takes luks cex from fcos 1.6.0 on, and Ignition's rules refuse it off IBM Z", () => {
    const text = (v: string) => `variant: fcos\nversion: ${v}\nstorage:\n  luks:\n    - name: data\n      device: /dev/vdb\n      cex:\n        enabled: true\n`;
    assert.match(errorsOf(text("1.6.0")).join("\n"), /^storage\.luks\.0\.cex\.enabled: cex /m);
    assert.doesNotMatch(errorsOf(text("1.6.0")).join("\n"), /unused key/);
  });

  it("needs a layout for a boot disk mirror from fcos 1.7.0 on", () => {
    const mirror = (v: string, layout = "") => `variant: fcos\nversion: ${v}\nboot_device:\n${layout}  mirror:\n    devices: [/dev/vda, /dev/vdb]\n`;
    assert.deepEqual(errorsOf(mirror("1.7.0")), ["boot_device.mirror: a mirror needs boot_device.layout (fcos 1.7.0 and later) (line 5, column 5)"]);
    assert.equal(parseConfig(mirror("1.7.0", "  layout: x86_64\n")).butane?.ignitionVersion, "3.6.0");
    assert.equal(parseConfig(mirror("1.6.0")).butane?.ignitionVersion, "3.5.0");
  });

  it("refuses fcos 1.6's IBM Z boot disk settings with a clear reason", () => {
    assert.deepEqual(errorsOf("variant: fcos\nversion: 1.6.0\nboot_device:\n  layout: s390x-eckd\n  luks:\n    device: /dev/dasda\n    tpm2: true\n"), [
      "boot_device.layout: layout s390x-eckd (IBM Z) is not supported by Flint; it supports aarch64, ppc64le, x86_64 (line 4, column 11)",
    ]);
    assert.match(errorsOf("variant: fcos\nversion: 1.6.0\nboot_device:\n  luks:\n    device: /dev/dasda\n    tpm2: true\n").join("\n"), /boot_device\.luks\.device: boot_device\.luks\.device is for IBM Z/);
    assert.match(errorsOf("variant: fcos\nversion: 1.5.0\nboot_device:\n  layout: s390x-eckd\n").join("\n"), /layout must be one of aarch64, ppc64le, x86_64 \(got "s390x-eckd"\)/);
  });

  it("warns about a partition reused by label and keeps mount units under /etc or /var, from fcos 1.6.0 on (Butane v0.20+)", () => {
    const text = (v: string, path = "/var/srv") =>
      `variant: fcos\nversion: ${v}\nstorage:\n  disks:\n    - device: /dev/vdb\n      partitions:\n        - label: data\n          size_mib: 100\n  filesystems:\n    - device: /dev/disk/by-partlabel/data\n      path: ${path}\n      format: ext4\n      with_mount_unit: true\n`;
    for (const v of ["1.6.0", "1.7.0"]) {
      assert.deepEqual(parseConfig(text(v)).warnings.map(formatIssue), [
        "storage.disks.0.partitions.0.number: partitions cannot be reused by label; number must be specified except on the boot disk (/dev/disk/by-id/coreos-boot-disk) or when wipe_table is true (line 7, column 11)",
      ]);
      assert.deepEqual(errorsOf(text(v, "/srv")), ["storage.filesystems.0.path: path must be under /etc or /var if with_mount_unit is true (line 11, column 13)"]);
    }
    // Not before fcos 1.6.0, nor in Butane v0.19's 1.6.0-experimental.
    assert.deepEqual(parseConfig(text("1.5.0", "/srv")).warnings, []);
    assert.deepEqual(parseConfig(text("1.6.0-experimental", "/srv"), { allowExperimental: true }).warnings, []);
    // The boot disk, a wiped table or a number: no warning.
    assert.deepEqual(parseConfig(text("1.6.0").replace("/dev/vdb", "/dev/disk/by-id/coreos-boot-disk")).warnings, []);
    assert.deepEqual(parseConfig(text("1.6.0").replace("    - device: /dev/vdb\n", "    - device: /dev/vdb\n      wipe_table: true\n")).warnings, []);
  });
});
