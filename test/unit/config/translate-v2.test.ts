// Spec 2.x configs are translated into the 3.x model before anything else.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { doc, errorLines, parse, warningLines } from "./helpers";

describe("2.x translation", () => {
  it("translates the seed example (2.2.0) into the equivalent 3.x config", () => {
    const parsed = parse(readFileSync("examples/seed-2.2.ign", "utf8"));
    assert.equal(parsed.specVersion, "2.2.0");
    assert.deepEqual(parsed.config, {
      ignition: { version: "3.6.0" },
      storage: { links: [{ path: "/etc/systemd/system/multi-user.target.wants/my.service", target: "/etc/systemd/system/my.service" }] },
      systemd: {
        units: [{ name: "my.service", enabled: true, contents: "[Service]\nType=oneshot\nExecStart=/usr/bin/echo Hello World\n\n[Install]\nWantedBy=multi-user.target" }],
      },
    });
    assert.deepEqual(parsed.warnings, []);
  });

  it("writes files of the root filesystem at their path, overwriting as 2.x did", () => {
    const parsed = parse(doc("2.1.0", { storage: { files: [{ filesystem: "root", path: "/etc/motd", mode: 420, contents: { source: "data:,hi" }, user: { id: 0 } }] } }));
    assert.deepEqual(parsed.config.storage!.files, [{ path: "/etc/motd", overwrite: true, user: { id: 0 }, contents: { source: "data:,hi" }, mode: 420 }]);
  });

  it("gives a 2.x file without contents an empty source, since it was truncated", () => {
    const parsed = parse(doc("2.0.0", { storage: { files: [{ filesystem: "root", path: "/etc/empty", mode: 420 }] } }));
    assert.deepEqual(parsed.config.storage!.files!.at(0)!.contents, { source: "data:," });
  });

  it("keeps overwrite false and no source when 2.2 says so", () => {
    const parsed = parse(doc("2.2.0", { storage: { files: [{ filesystem: "root", path: "/etc/keep", overwrite: false, mode: 420 }] } }));
    assert.deepEqual(parsed.config.storage!.files, [{ path: "/etc/keep", overwrite: false, mode: 420 }]);
  });

  it("folds append: true entries into one file's append list, after a whole-file entry", () => {
    const parsed = parse(
      doc("2.2.0", {
        storage: {
          files: [
            { filesystem: "root", path: "/etc/hosts", mode: 420, contents: { source: "data:,base" } },
            { filesystem: "root", path: "/etc/hosts", mode: 420, append: true, contents: { source: "data:,one" } },
            { filesystem: "root", path: "/etc/hosts", mode: 420, append: true, contents: { source: "data:,two" } },
            { filesystem: "root", path: "/etc/log", append: true, contents: { source: "data:,x" } },
          ],
        },
      }),
    );
    assert.deepEqual(parsed.config.storage!.files, [
      { path: "/etc/hosts", overwrite: true, contents: { source: "data:,base" }, mode: 420, append: [{ source: "data:,one" }, { source: "data:,two" }] },
      { path: "/etc/log", append: [{ source: "data:,x" }] },
    ]);
  });

  it("mounts named filesystems without a path where Flatcar does: oem at /oem, others at /tmp/NAME-ignN in the root", () => {
    const parsed = parse(
      doc("2.2.0", {
        storage: {
          filesystems: [
            { name: "OEM", mount: { device: "/dev/disk/by-label/OEM", format: "btrfs" } },
            { name: "oem", mount: { device: "/dev/disk/by-label/OEM2", format: "ext4" } },
            { name: "swap", mount: { device: "/dev/sdb2", format: "swap" } },
            { name: "data", mount: { device: "/dev/sdb1", format: "ext4", create: { force: true } } },
          ],
          files: [
            { filesystem: "OEM", path: "/grub.cfg", append: true, mode: 420, contents: { source: "data:,set%20linux_append%3D%22%24linux_append%20quiet%22%0A" } },
            { filesystem: "data", path: "/etc/x", mode: 420, contents: { source: "data:,x" } },
            { filesystem: "oem", path: "/y", mode: 420, contents: { source: "data:,y" } },
          ],
        },
      }),
    );
    const s = parsed.config.storage!;
    assert.deepEqual(s.filesystems!.map((f) => [f.device, f.path]), [
      ["/dev/disk/by-label/OEM", "/tmp/OEM-ign1"],
      ["/dev/disk/by-label/OEM2", "/oem"],
      ["/dev/sdb2", undefined],
      ["/dev/sdb1", "/tmp/data-ign3"],
    ]);
    assert.deepEqual([...s.files!].map((f) => f.path), ["/tmp/OEM-ign1/grub.cfg", "/tmp/data-ign3/etc/x", "/oem/y"]);
    assert.deepEqual(s.files!.at(0)!.append, [{ source: "data:,set%20linux_append%3D%22%24linux_append%20quiet%22%0A" }]);
    assert.deepEqual(parsed.warnings, []);
  });

  it("translates directories and links (2.1), prefixing hard link targets on their filesystem", () => {
    const parsed = parse(
      doc("2.1.0", {
        storage: {
          filesystems: [{ name: "oem", mount: { device: "/dev/disk/by-label/OEM", format: "btrfs" } }],
          directories: [{ filesystem: "oem", path: "/bin", mode: 493 }],
          links: [
            { filesystem: "oem", path: "/bin/tool", target: "/bin/real", hard: true },
            { filesystem: "root", path: "/etc/localtime", target: "../usr/share/zoneinfo/UTC" },
          ],
        },
      }),
    );
    const s = parsed.config.storage!;
    assert.deepEqual(s.filesystems, [{ device: "/dev/disk/by-label/OEM", format: "btrfs", path: "/oem" }]);
    assert.deepEqual(s.directories, [{ path: "/oem/bin", mode: 493 }]);
    assert.deepEqual(s.links, [
      { path: "/oem/bin/tool", target: "/oem/bin/real", hard: true },
      { path: "/etc/localtime", target: "../usr/share/zoneinfo/UTC" },
    ]);
  });

  it("translates a filesystem given by path under /sysroot into a path prefix", () => {
    const parsed = parse(doc("2.0.0", { storage: { filesystems: [{ name: "sys", path: "/sysroot" }], files: [{ filesystem: "sys", path: "/etc/a", mode: 420 }] } }));
    assert.equal(parsed.config.storage!.files!.at(0)!.path, "/etc/a");
  });

  it("translates mount.create (2.0) and mount options (2.1) into wipeFilesystem and options", () => {
    const v20 = parse(doc("2.0.0", { storage: { filesystems: [{ name: "data", mount: { device: "/dev/sdb1", format: "ext4", create: { force: true, options: ["-m0"] } } }] } }));
    assert.deepEqual(v20.config.storage!.filesystems, [{ device: "/dev/sdb1", format: "ext4", wipeFilesystem: true, options: ["-m0"] }]);
    const v21 = parse(doc("2.1.0", { storage: { filesystems: [{ name: "root", mount: { device: "/dev/sda9", format: "xfs", wipeFilesystem: true, label: "ROOT" } }] } }));
    assert.deepEqual(v21.config.storage!.filesystems, [{ device: "/dev/sda9", format: "xfs", path: "/", wipeFilesystem: true, label: "ROOT" }]);
  });

  it("translates units: enable (2.0) and enabled, mask, drop-ins", () => {
    const parsed = parse(
      doc("2.0.0", { systemd: { units: [{ name: "a.service", enable: true, contents: "[Unit]\n" }, { name: "b.service", mask: true, dropins: [{ name: "x.conf", contents: "[Service]\nA=b\n" }] }] } }),
    );
    assert.deepEqual(parsed.config.systemd!.units, [
      { name: "a.service", enabled: true, contents: "[Unit]\n" },
      { name: "b.service", mask: true, dropins: [{ name: "x.conf", contents: "[Service]\nA=b\n" }] },
    ]);
  });

  it("turns networkd units into files under /etc/systemd/network (mode 0644)", () => {
    const contents = "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n";
    const parsed = parse(doc("2.2.0", { networkd: { units: [{ name: "00-eth0.network", contents, dropins: [{ name: "mtu.conf", contents: "[Link]\nMTUBytes=9000\n" }] }] } }));
    const files = [...parsed.config.storage!.files!];
    assert.deepEqual(
      files.map((f) => [f.path, f.mode, f.overwrite]),
      [
        ["/etc/systemd/network/00-eth0.network", 0o644, true],
        ["/etc/systemd/network/00-eth0.network.d/mtu.conf", 0o644, true],
      ],
    );
    assert.equal(decodeURIComponent(files[0]!.contents!.source!.slice("data:,".length)), contents);
  });

  it("translates users: create (2.0) fields and 2.1 top-level fields", () => {
    const v20 = parse(doc("2.0.0", { passwd: { users: [{ name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAA k"], create: { uid: 500, groups: ["wheel"], shell: "/bin/bash" } }] } }));
    assert.deepEqual(v20.config.passwd!.users, [{ uid: 500, groups: ["wheel"], shell: "/bin/bash", name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAA k"] }]);
    const v21 = parse(doc("2.1.0", { passwd: { users: [{ name: "dev", uid: 1001, homeDir: "/home/dev" }], groups: [{ name: "ops", gid: 2000 }] } }));
    assert.deepEqual(v21.config.passwd, { users: [{ name: "dev", uid: 1001, homeDir: "/home/dev" }], groups: [{ name: "ops", gid: 2000 }] });
  });

  it("converts partition sizes and starts from sectors to MiB", () => {
    const parsed = parse(doc("2.3.0", { storage: { disks: [{ device: "/dev/sda", partitions: [{ number: 1, label: "DATA", start: 2048, size: 2097152, typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" }, { number: 9, shouldExist: false }] }] } }));
    assert.deepEqual(parsed.config.storage!.disks![0]!.partitions, [
      { label: "DATA", number: 1, sizeMiB: 1024, startMiB: 1, typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" },
      { number: 9, shouldExist: false },
    ]);
  });

  it("keeps setuid/setgid/sticky modes, which 2.x allowed", () => {
    const parsed = parse(doc("2.2.0", { storage: { directories: [{ filesystem: "root", path: "/srv/shared", mode: 0o1777 }] } }));
    assert.equal(parsed.config.storage!.directories!.at(0)!.mode, 0o1777);
  });

  it("turns ignition.config.append into merge", () => {
    const parsed = parse(doc("2.1.0", { ignition: { config: { append: [{ source: "https://example.com/a.ign" }] } } }));
    assert.deepEqual(parsed.config.ignition.config, { merge: [{ source: "https://example.com/a.ign" }] });
  });

  it("keeps oem:// sources (Flatcar's Ignition reads them in every spec), and rejects one that names no absolute path", () => {
    const parsed = parse(doc("2.1.0", { ignition: { config: { append: [{ source: "oem:///extra.ign" }] } }, storage: { files: [{ filesystem: "root", path: "/x", contents: { source: "oem:///files/x" } }] } }));
    assert.deepEqual(parsed.config.ignition.config, { merge: [{ source: "oem:///extra.ign" }] });
    assert.equal(parsed.config.storage!.files!.at(0)!.contents!.source, "oem:///files/x");
    assert.match(errorLines(doc("2.1.0", { storage: { files: [{ filesystem: "root", path: "/x", contents: { source: "oem://x" } }] } }))[0]!, /^storage\.files\.0\.contents\.source: invalid oem URL "oem:\/\/x": it names a file by its absolute path in the OEM tree/);
  });

  describe("constructs with no 3.x meaning are errors naming the path", () => {
    it("a size that is not a whole number of MiB", () => {
      assert.deepEqual(errorLines(doc("2.2.0", { storage: { disks: [{ device: "/dev/sda", partitions: [{ number: 1, size: 1000 }] }] } })), [
        "storage.disks.0.partitions.0.size: 1000 sectors is not a whole number of MiB (2048 sectors); spec 3.x sizes and starts are in MiB (line 12, column 21)",
      ]);
    });

    it("a filesystem path outside /sysroot", () => {
      assert.match(errorLines(doc("2.0.0", { storage: { filesystems: [{ name: "x", path: "/mnt/x" }] } }))[0]!, /^storage\.filesystems\.0\.path: filesystem path "\/mnt\/x" has no 3\.x equivalent/);
    });

    it("a file without a filesystem, or on an undefined one", () => {
      assert.match(errorLines(doc("2.2.0", { storage: { files: [{ path: "/x" }] } }))[0]!, /^storage\.files\.0\.filesystem: filesystem is required in spec 2\.x/);
      assert.match(errorLines(doc("2.2.0", { storage: { files: [{ filesystem: "nope", path: "/x" }] } }))[0]!, /^storage\.files\.0\.filesystem: no filesystem named "nope" is defined/);
    });

    it("a networkd unit without a networkd suffix", () => {
      assert.match(errorLines(doc("2.2.0", { networkd: { units: [{ name: "../../etc/passwd", contents: "x" }] } }))[0]!, /^networkd\.units\.0\.name: networkd unit name must end in \.network, \.netdev or \.link/);
    });
  });

  it("reports 3.x validation errors at the 2.x entry the user wrote", () => {
    const text = JSON.stringify(doc("2.2.0", { storage: { files: [{ filesystem: "root", path: "/a", mode: 420 }, { filesystem: "root", path: "relative", mode: 420 }] } }), null, 2);
    assert.deepEqual(errorLines(text), ['storage.files.1.path: path must be absolute (got "relative") (line 14, column 17)']);
    assert.match(errorLines(doc("2.2.0", { networkd: { units: [{ name: "a.network", contents: "x" }] }, storage: { files: [{ filesystem: "root", path: "/etc/systemd/network/a.network" }] } }))[0]!, /^networkd\.units\.0\.path: duplicate path "\/etc\/systemd\/network\/a\.network" \(already used by storage\.files\.0\)/);
  });

  it("warns about keys newer than the document's 2.x version", () => {
    assert.deepEqual(warningLines(doc("2.0.0", { storage: { links: [] } })), ['storage.links: unknown key "links" ignored: it needs spec 2.1.0 or later, and this config is 2.0.0 (line 6, column 5)']);
  });

  it("gives translated configs that validate as 3.6.0 and translate to themselves", () => {
    for (const file of ["examples/seed-2.2.ign", "examples/demo.ign", "examples/storage.ign", "examples/merge.ign"]) {
      const once = parse(readFileSync(file, "utf8")).config;
      const twice = parse(JSON.stringify(once)).config;
      assert.deepEqual(twice, once, file);
    }
  });
});
