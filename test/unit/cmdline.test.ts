import { strict as assert } from "node:assert";
import { parseCmdline, tokenizeCmdline } from "../../agent/boot/cmdline";
import { describeError } from "../../agent/errors";

function failure(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return describeError(e);
  }
  return "no error";
}

describe("kernel command line", () => {
  it("keeps a quoted value with spaces as one argument", () => {
    assert.deepEqual(tokenizeCmdline('root=/dev/vda foo="a b" quiet'), ["root=/dev/vda", "foo=a b", "quiet"]);
  });

  it("ignores everything after a lone --", () => {
    assert.deepEqual(parseCmdline("flatcar.oem.id=qemu -- flatcar.oem.id=aws").platformId, "qemu");
  });

  it("lets the last occurrence win, across spellings", () => {
    assert.equal(parseCmdline("coreos.oem.id=gce flatcar.oem.id=qemu").platformId, "qemu");
    assert.equal(parseCmdline("flatcar.oem.id=qemu ignition.platform.id=aws").platformId, "aws");
    assert.equal(parseCmdline("flatcar.first_boot=1 flatcar.first_boot=0").firstBoot, false);
  });

  it("remembers first_boot=detected separately from other true values", () => {
    assert.deepEqual(parseCmdline("flatcar.first_boot=detected"), { firstBoot: true, firstBootDetected: true });
    assert.deepEqual(parseCmdline("flatcar.first_boot=1"), { firstBoot: true, firstBootDetected: false });
    assert.deepEqual(parseCmdline("coreos.first_boot=yes"), { firstBoot: true, firstBootDetected: false });
  });

  it("treats 0, no, off, false and an empty value as not a first boot", () => {
    for (const v of ["0", "no", "off", "false", ""]) assert.equal(parseCmdline(`flatcar.first_boot=${v}`).firstBoot, false, v);
    assert.equal(parseCmdline("quiet").firstBoot, false);
  });

  it("treats Ignition's bare ignition.firstboot flag as a first boot", () => {
    assert.equal(parseCmdline("ignition.firstboot").firstBoot, true);
  });

  it("accepts every randomize-guid spelling and checks it is a GUID", () => {
    for (const key of ["flatcar.randomize_guid", "flatcar.randomize_disk_guid", "coreos.randomize_disk_guid"]) {
      assert.equal(parseCmdline(`${key}=00000000-0000-0000-0000-000000000001`).randomizeGuid, "00000000-0000-0000-0000-000000000001");
    }
    assert.match(failure(() => parseCmdline("flatcar.randomize_guid=nope")), /^kernel argument flatcar.randomize_guid: not a GUID/);
  });

  it("reads the config URL and Flint's log switch", () => {
    const p = parseCmdline("ignition.config.url=http://10.0.2.2:8080/c.ign flint.log=debug");
    assert.equal(p.configUrl, "http://10.0.2.2:8080/c.ign");
    assert.equal(p.logLevel, "debug");
    assert.match(failure(() => parseCmdline("flint.log=loud")), /^kernel argument flint.log: must be one of/);
  });
});
