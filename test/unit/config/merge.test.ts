// Ignition's rules for merging a child config over its parent.

import assert from "node:assert/strict";
import { mergeConfigs } from "../../../agent/config/index";
import type { Config } from "../../../agent/config/types";

const base = (extra: Partial<Config> = {}): Config => ({ ignition: { version: "3.6.0" }, ...extra });

describe("config merging", () => {
  it("merges files keyed by path, field by field, the child winning where it sets a value", () => {
    const parent = base({ storage: { files: [{ path: "/a", mode: 0o600, contents: { source: "data:,old" } }, { path: "/b", mode: 0o644 }] } });
    const child = base({ storage: { files: [{ path: "/a", contents: { source: "data:,new" } }, { path: "/c" }] } });
    assert.deepEqual(mergeConfigs(parent, child).storage!.files, [{ path: "/a", mode: 0o600, contents: { source: "data:,new" } }, { path: "/b", mode: 0o644 }, { path: "/c" }]);
  });

  it("lets a child's path replace the parent's entry of another kind", () => {
    const parent = base({ storage: { files: [{ path: "/x" }], directories: [{ path: "/d" }] } });
    const child = base({ storage: { links: [{ path: "/x", target: "/y" }], files: [{ path: "/d" }] } });
    const merged = mergeConfigs(parent, child).storage!;
    assert.deepEqual(merged.files, [{ path: "/d" }]);
    assert.deepEqual(merged.directories, []);
    assert.deepEqual(merged.links, [{ path: "/x", target: "/y" }]);
  });

  it("concatenates a file's append fragments", () => {
    const parent = base({ storage: { files: [{ path: "/a", append: [{ source: "data:,1" }] }] } });
    const child = base({ storage: { files: [{ path: "/a", append: [{ source: "data:,2" }] }] } });
    assert.deepEqual(mergeConfigs(parent, child).storage!.files![0]!.append, [{ source: "data:,1" }, { source: "data:,2" }]);
  });

  it("merges units by name and their drop-ins by name", () => {
    const parent = base({ systemd: { units: [{ name: "a.service", enabled: true, contents: "[Unit]\n", dropins: [{ name: "1.conf", contents: "x" }] }] } });
    const child = base({ systemd: { units: [{ name: "a.service", enabled: false, dropins: [{ name: "1.conf", contents: "y" }, { name: "2.conf" }] }, { name: "b.service", mask: true }] } });
    assert.deepEqual(mergeConfigs(parent, child).systemd!.units, [
      { name: "a.service", enabled: false, contents: "[Unit]\n", dropins: [{ name: "1.conf", contents: "y" }, { name: "2.conf" }] },
      { name: "b.service", mask: true },
    ]);
  });

  it("merges disks by device and partitions by number, or by label when the number is 0", () => {
    const parent = base({ storage: { disks: [{ device: "/dev/sda", wipeTable: false, partitions: [{ number: 1, label: "A", sizeMiB: 10 }, { label: "B", sizeMiB: 5 }] }] } });
    const child = base({ storage: { disks: [{ device: "/dev/sda", wipeTable: true, partitions: [{ number: 1, sizeMiB: 20 }, { label: "B", resize: true }, { number: 3 }] }] } });
    assert.deepEqual(mergeConfigs(parent, child).storage!.disks, [
      { device: "/dev/sda", wipeTable: true, partitions: [{ number: 1, label: "A", sizeMiB: 20 }, { label: "B", sizeMiB: 5, resize: true }, { number: 3 }] },
    ]);
  });

  it("merges filesystems by device, users and groups by name, raid and luks by name", () => {
    const parent = base({
      storage: { filesystems: [{ device: "/dev/sdb", format: "ext4", label: "OLD" }], raid: [{ name: "md0", level: "raid1", devices: ["/dev/sda"] }], luks: [{ name: "v", device: "/dev/sdc" }] },
      passwd: { users: [{ name: "core", sshAuthorizedKeys: ["k1"], groups: ["wheel"] }], groups: [{ name: "ops", gid: 100 }] },
    });
    const child = base({
      storage: { filesystems: [{ device: "/dev/sdb", label: "NEW" }], raid: [{ name: "md0", devices: ["/dev/sdb"] }], luks: [{ name: "v", wipeVolume: true }] },
      passwd: { users: [{ name: "core", sshAuthorizedKeys: ["k2", "k1"], shell: "/bin/zsh" }], groups: [{ name: "ops", gid: 200 }] },
    });
    const merged = mergeConfigs(parent, child);
    assert.deepEqual(merged.storage!.filesystems, [{ device: "/dev/sdb", format: "ext4", label: "NEW" }]);
    assert.deepEqual(merged.storage!.raid, [{ name: "md0", level: "raid1", devices: ["/dev/sda", "/dev/sdb"] }]);
    assert.deepEqual(merged.storage!.luks, [{ name: "v", device: "/dev/sdc", wipeVolume: true }]);
    assert.deepEqual(merged.passwd!.users, [{ name: "core", sshAuthorizedKeys: ["k1", "k2"], groups: ["wheel"], shell: "/bin/zsh" }]);
    assert.deepEqual(merged.passwd!.groups, [{ name: "ops", gid: 200 }]);
  });

  it("merges config references by source and ignition settings field by field", () => {
    const parent = base({ ignition: { version: "3.0.0", config: { merge: [{ source: "https://a/x.ign" }] }, timeouts: { httpTotal: 30, httpResponseHeaders: 5 } } });
    const child = base({ ignition: { version: "3.2.0", config: { merge: [{ source: "https://a/x.ign", verification: { hash: "sha512-00" } }, { source: "https://b/y.ign" }] }, timeouts: { httpTotal: 60 } } });
    assert.deepEqual(mergeConfigs(parent, child).ignition, {
      version: "3.2.0",
      config: { merge: [{ source: "https://a/x.ign", verification: { hash: "sha512-00" } }, { source: "https://b/y.ign" }] },
      timeouts: { httpTotal: 60, httpResponseHeaders: 5 },
    });
  });

  it("gives the result the newer of the two spec versions", () => {
    assert.equal(mergeConfigs(base({ ignition: { version: "3.6.0" } }), base({ ignition: { version: "3.1.0" } })).ignition.version, "3.6.0");
    assert.equal(mergeConfigs(base({ ignition: { version: "3.6.0" } }), base({ ignition: { version: "3.7.0-experimental" } })).ignition.version, "3.7.0-experimental");
  });

  it("removes a parent's HTTP header when the child names it without a value", () => {
    const parent = base({ storage: { files: [{ path: "/a", contents: { source: "https://x/a", httpHeaders: [{ name: "A", value: "1" }, { name: "B", value: "2" }] } }] } });
    const child = base({ storage: { files: [{ path: "/a", contents: { httpHeaders: [{ name: "A" }, { name: "C", value: "3" }] } }] } });
    assert.deepEqual(mergeConfigs(parent, child).storage!.files![0]!.contents!.httpHeaders, [{ name: "B", value: "2" }, { name: "C", value: "3" }]);
  });

  it("moves a kernel argument between shouldExist and shouldNotExist as the child says", () => {
    const parent = base({ kernelArguments: { shouldExist: ["quiet", "a"], shouldNotExist: ["splash"] } });
    const child = base({ kernelArguments: { shouldExist: ["splash"], shouldNotExist: ["quiet"] } });
    assert.deepEqual(mergeConfigs(parent, child).kernelArguments, { shouldExist: ["a", "splash"], shouldNotExist: ["quiet"] });
  });

  it("keeps the parent's sections the child does not mention and never modifies its inputs", () => {
    const parent = base({ passwd: { users: [{ name: "core" }] }, storage: { files: [{ path: "/a" }] } });
    const child = base({ systemd: { units: [{ name: "x.service" }] }, storage: { files: [{ path: "/a", mode: 0o600 }] } });
    const before = JSON.stringify([parent, child]);
    const merged = mergeConfigs(parent, child);
    assert.deepEqual(merged.passwd, { users: [{ name: "core" }] });
    assert.deepEqual(merged.systemd, { units: [{ name: "x.service" }] });
    assert.equal(JSON.stringify([parent, child]), before);
  });
});
