// Ignition's rules for merging a child config over its parent.

import assert from "node:assert/strict";
import { locateInSources, mergeConfigs, mergeSourcedConfigs, parseConfig, parseSources, serializeSources, type SourceTree } from "../../../agent/config/index";
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
    assert.deepEqual(mergeConfigs(parent, child).storage!.files!.at(0)!.append, [{ source: "data:,1" }, { source: "data:,2" }]);
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
    assert.deepEqual(mergeConfigs(parent, child).storage!.files!.at(0)!.contents!.httpHeaders, [{ name: "B", value: "2" }, { name: "C", value: "3" }]);
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

describe("where each part of a merged config came from", () => {
  const doc = (name: string, config: Config) => {
    const text = JSON.stringify(config, null, 2);
    const parsed = parseConfig(text, { documentName: name });
    return { config: parsed.config, sources: parsed.sources };
  };
  const from = (sourced: { sources: SourceTree }, path: (string | number)[]) => {
    const at = locateInSources(sourced.sources, path)!;
    return `${at.document}: ${at.path.join(".")}`;
  };

  it("points each field of a merged entry, and each entry, at the document and path that set it", () => {
    const parent = doc("parent", base({ storage: { files: [{ path: "/keep", mode: 0o600 }, { path: "/a", mode: 0o600, contents: { source: "data:,old" } }] } }));
    const child = doc("child", base({ storage: { files: [{ path: "/new" }, { path: "/a", contents: { source: "data:,new" } }] } }));
    const merged = mergeSourcedConfigs(parent, child);
    assert.deepEqual([...merged.config.storage!.files!].map((f) => f.path), ["/keep", "/a", "/new"]);
    assert.equal(from(merged, ["storage", "files", 0, "mode"]), "parent: storage.files.0.mode");
    assert.equal(from(merged, ["storage", "files", 1, "mode"]), "parent: storage.files.1.mode");
    assert.equal(from(merged, ["storage", "files", 1, "contents", "source"]), "child: storage.files.1.contents.source");
    assert.equal(from(merged, ["storage", "files", 2]), "child: storage.files.0");
    // Line and column come from the document's own text.
    const line = JSON.stringify(child.config, null, 2).split("\n").findIndex((l) => l.includes('"/new"')) + 1;
    assert.equal(locateInSources(merged.sources, ["storage", "files", 2, "path"])!.position!.line, line);
  });

  it("renumbers the parent's entries that a child's entry of another kind replaced, and removed headers", () => {
    const parent = doc("parent", base({ storage: { files: [{ path: "/x" }, { path: "/y" }] } }));
    const child = doc("child", base({ storage: { links: [{ path: "/x", target: "/z" }] } }));
    const merged = mergeSourcedConfigs(parent, child);
    assert.equal(merged.config.storage!.files!.at(0)!.path, "/y");
    assert.equal(from(merged, ["storage", "files", 0, "path"]), "parent: storage.files.1.path");
    assert.equal(from(merged, ["storage", "links", 0]), "child: storage.links.0");
    const headers = (h: { name: string; value?: string }[]) => base({ storage: { files: [{ path: "/f", contents: { source: "http://127.0.0.1/f", httpHeaders: h } }] } });
    const withHeaders = mergeSourcedConfigs(doc("parent", headers([{ name: "A", value: "1" }, { name: "B", value: "2" }])), doc("child", headers([{ name: "A" }])));
    assert.deepEqual(withHeaders.config.storage!.files!.at(0)!.contents!.httpHeaders, [{ name: "B", value: "2" }]);
    assert.equal(from(withHeaders, ["storage", "files", 0, "contents", "httpHeaders", 0]), "parent: storage.files.0.contents.httpHeaders.1");
  });

  it("keeps a long list taken whole as one run, not a node per entry", () => {
    const files = Array.from({ length: 1000 }, (_, i) => ({ path: `/f${i}` }));
    const merged = mergeSourcedConfigs(doc("parent", base({ storage: { files: [{ path: "/etc/hostname" }] } })), doc("child", base({ storage: { files } })));
    const stored = JSON.parse(serializeSources(merged.sources));
    assert.equal(stored.tree.kids.storage.kids.files.spans.length, 2);
    assert.equal(from({ sources: parseSources(serializeSources(merged.sources)) }, ["storage", "files", 1000, "path"]), "child: storage.files.999.path");
    assert.equal(from(merged, ["storage", "files", 0]), "parent: storage.files.0");
  });

  it("survives being written beside the cache and read back", () => {
    const merged = mergeSourcedConfigs(doc("parent", base({ storage: { files: [{ path: "/a" }] } })), doc("child", base({ storage: { files: [{ path: "/b" }] } })));
    const back = parseSources(serializeSources(merged.sources));
    assert.deepEqual(locateInSources(back, ["storage", "files", 1, "path"]), locateInSources(merged.sources, ["storage", "files", 1, "path"]));
    assert.equal(from({ sources: back }, ["storage", "files", 1, "path"]), "child: storage.files.0.path");
  });

  it("points a 2.x config's translated entries back into the 2.x text", () => {
    const v2 = parseConfig(JSON.stringify({ ignition: { version: "2.2.0" }, systemd: { units: [{ name: "a.service", enable: true }] } }), { documentName: "old" });
    assert.equal(from(v2, ["systemd", "units", 0]), "old: systemd.units.0");
  });
});
