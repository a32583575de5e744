// Each validation rule with a config that passes it and one that breaks it.

import assert from "node:assert/strict";
import { dataUrlProblem } from "../../../agent/config/validate/resource";
import { formatIssue } from "../../../agent/config/index";
import { doc, errorLines, parse, warningLines, type Doc } from "./helpers";

interface Rule {
  rule: string;
  version?: string;
  good: Doc;
  bad: Doc;
  /** The expected error, as `path: message` (without the position). */
  error: RegExp;
}

const file = (f: Doc) => ({ storage: { files: [f] } });
const unit = (u: Doc) => ({ systemd: { units: [u] } });
const disk = (partitions: Doc[]) => ({ storage: { disks: [{ device: "/dev/sdb", partitions }] } });
const fs = (f: Doc) => ({ storage: { filesystems: [{ device: "/dev/sdb1", ...f }] } });
const source = (s: string, extra: Doc = {}) => file({ path: "/etc/x", mode: 420, contents: { source: s, ...extra } });
const luks = (l: Doc) => ({ storage: { luks: [{ name: "data", device: "/dev/sdb", ...l }] } });
const SHA256 = "sha256-" + "a".repeat(64);
const SHA512 = "sha512-" + "b".repeat(128);

const RULES: Rule[] = [
  // paths
  { rule: "paths are absolute", good: file({ path: "/etc/motd" }), bad: file({ path: "etc/motd" }), error: /^storage\.files\.0\.path: path must be absolute \(got "etc\/motd"\)$/ },
  { rule: "paths have no '..'", good: file({ path: "/etc/a/b" }), bad: file({ path: "/etc/../b" }), error: /^storage\.files\.0\.path: path must be clean/ },
  { rule: "paths have no trailing '/'", good: { storage: { directories: [{ path: "/etc/d" }] } }, bad: { storage: { directories: [{ path: "/etc/d/" }] } }, error: /^storage\.directories\.0\.path: path must be clean/ },
  { rule: "paths have no '//'", good: { storage: { links: [{ path: "/a/b", target: "/c" }] } }, bad: { storage: { links: [{ path: "/a//b", target: "/c" }] } }, error: /^storage\.links\.0\.path: path must be clean/ },
  { rule: "a file is never at '/'", good: file({ path: "/x" }), bad: file({ path: "/" }), error: /^storage\.files\.0\.path: path must not be "\/"/ },
  { rule: "a link is never at '/'", good: { storage: { links: [{ path: "/x", target: "/y" }] } }, bad: { storage: { links: [{ path: "/", target: "/y", overwrite: true }] } }, error: /^storage\.links\.0\.path: path must not be "\/"/ },
  { rule: "a directory is never at '/'", good: { storage: { directories: [{ path: "/x" }] } }, bad: { storage: { directories: [{ path: "/", overwrite: true }] } }, error: /^storage\.directories\.0\.path: path must not be "\/"/ },
  { rule: "paths fit PATH_MAX", good: file({ path: "/" + "a/".repeat(2046) + "b" }), bad: file({ path: "/" + "a/".repeat(2047) + "b" }), error: /^storage\.files\.0\.path: path is 4096 bytes long; the limit is 4095 \(PATH_MAX\)/ },
  { rule: "path components fit NAME_MAX", good: file({ path: "/etc/" + "é".repeat(127) }), bad: file({ path: "/etc/" + "é".repeat(128) }), error: /^storage\.files\.0\.path: path has a component of 256 bytes .*\(NAME_MAX\)/ },
  { rule: "owner ids are not negative", good: file({ path: "/x", user: { id: 0 } }), bad: file({ path: "/x", user: { id: -1 } }), error: /^storage\.files\.0\.user\.id: id must be between 0 and 4294967294, not -1$/ },
  { rule: "owner ids fit the kernel's uid_t", good: file({ path: "/x", group: { id: 4294967294 } }), bad: file({ path: "/x", group: { id: 4294967295 } }), error: /^storage\.files\.0\.group\.id: id must be between 0 and 4294967294, not 4294967295$/ },
  { rule: "user uids fit the kernel's uid_t", good: { passwd: { users: [{ name: "a", uid: 4294967294 }] } }, bad: { passwd: { users: [{ name: "a", uid: 4294967296 }] } }, error: /^passwd\.users\.0\.uid: uid must be between 0 and 4294967294, not 4294967296$/ },
  { rule: "group gids are not negative", good: { passwd: { groups: [{ name: "a", gid: 1 }] } }, bad: { passwd: { groups: [{ name: "a", gid: -1 }] } }, error: /^passwd\.groups\.0\.gid: gid must be between 0 and 4294967294, not -1$/ },
  { rule: "paths are not empty", good: file({ path: "/x" }), bad: file({ path: "" }), error: /^storage\.files\.0\.path: path must not be empty/ },
  // duplicates and conflicts
  {
    rule: "a path appears once among files",
    good: { storage: { files: [{ path: "/a" }, { path: "/b" }] } },
    bad: { storage: { files: [{ path: "/a" }, { path: "/a" }] } },
    error: /^storage\.files\.1\.path: duplicate path "\/a" \(already used by storage\.files\.0\)$/,
  },
  {
    rule: "a path is not both a file and a directory",
    good: { storage: { files: [{ path: "/a/f" }], directories: [{ path: "/a" }] } },
    bad: { storage: { files: [{ path: "/a" }], directories: [{ path: "/a" }] } },
    error: /^storage\.directories\.0\.path: path "\/a" is both a file \(storage\.files\.0\) and a directory$/,
  },
  {
    rule: "a path is not both a link and a file",
    good: { storage: { files: [{ path: "/b" }], links: [{ path: "/a", target: "/b" }] } },
    bad: { storage: { files: [{ path: "/a" }], links: [{ path: "/a", target: "/b" }] } },
    error: /^storage\.links\.0\.path: path "\/a" is both a file \(storage\.files\.0\) and a link$/,
  },
  {
    rule: "a node's parent is not a file of the same config",
    good: { storage: { directories: [{ path: "/a" }], files: [{ path: "/a/b" }] } },
    bad: { storage: { files: [{ path: "/a" }, { path: "/a/b" }] } },
    error: /^storage\.files\.1\.path: parent "\/a" is a file at storage\.files\.0, not a directory$/,
  },
  {
    rule: "a node's parent is not a link of the same config",
    good: { storage: { links: [{ path: "/opt/l", target: "/srv" }], files: [{ path: "/srv/f" }] } },
    bad: { storage: { links: [{ path: "/opt/l", target: "/srv" }], files: [{ path: "/opt/l/f" }] } },
    error: /^storage\.files\.0\.path: parent "\/opt\/l" is a link/,
  },
  {
    rule: "a file does not collide with a systemd unit that has contents",
    good: { ...file({ path: "/etc/systemd/system/b.service" }), ...unit({ name: "a.service", contents: "[Unit]\n" }) },
    bad: { ...file({ path: "/etc/systemd/system/a.service" }), ...unit({ name: "a.service", contents: "[Unit]\n" }) },
    error: /^storage\.files\.0\.path: path \/etc\/systemd\/system\/a\.service is also written by systemd\.units\.0$/,
  },
  { rule: "unit names are unique", good: { systemd: { units: [{ name: "a.service" }, { name: "b.service" }] } }, bad: { systemd: { units: [{ name: "a.service" }, { name: "a.service" }] } }, error: /^systemd\.units\.1\.name: duplicate unit "a\.service"/ },
  {
    rule: "drop-in names are unique within a unit",
    good: unit({ name: "a.service", dropins: [{ name: "10.conf" }, { name: "20.conf" }] }),
    bad: unit({ name: "a.service", dropins: [{ name: "10.conf" }, { name: "10.conf" }] }),
    error: /^systemd\.units\.0\.dropins\.1\.name: duplicate drop-in "10\.conf"/,
  },
  { rule: "user names are unique", good: { passwd: { users: [{ name: "a" }, { name: "b" }] } }, bad: { passwd: { users: [{ name: "a" }, { name: "a" }] } }, error: /^passwd\.users\.1\.name: duplicate user "a"/ },
  { rule: "group names are unique", good: { passwd: { groups: [{ name: "a" }, { name: "b" }] } }, bad: { passwd: { groups: [{ name: "a" }, { name: "a" }] } }, error: /^passwd\.groups\.1\.name: duplicate group "a"/ },
  {
    rule: "a user's SSH keys are unique",
    good: { passwd: { users: [{ name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAA1", "ssh-ed25519 AAAA2"] }] } },
    bad: { passwd: { users: [{ name: "core", sshAuthorizedKeys: ["ssh-ed25519 AAAA1", "ssh-ed25519 AAAA1"] }] } },
    error: /^passwd\.users\.0\.sshAuthorizedKeys\.1: duplicate SSH key \(same as sshAuthorizedKeys\.0\)$/,
  },
  { rule: "disk devices are unique", good: { storage: { disks: [{ device: "/dev/sda" }, { device: "/dev/sdb" }] } }, bad: { storage: { disks: [{ device: "/dev/sda" }, { device: "/dev/sda" }] } }, error: /^storage\.disks\.1\.device: duplicate disk "\/dev\/sda"/ },
  { rule: "partition numbers are unique on a disk", good: disk([{ number: 1 }, { number: 2 }]), bad: disk([{ number: 1 }, { number: 1 }]), error: /^storage\.disks\.0\.partitions\.1\.number: duplicate partition number "1"/ },
  { rule: "partition labels are unique on a disk", good: disk([{ label: "A" }, { label: "B" }]), bad: disk([{ label: "A" }, { label: "A" }]), error: /^storage\.disks\.0\.partitions\.1\.label: duplicate partition label "A"/ },
  {
    rule: "filesystem devices are unique",
    good: { storage: { filesystems: [{ device: "/dev/sda1", format: "ext4" }, { device: "/dev/sdb1", format: "ext4" }] } },
    bad: { storage: { filesystems: [{ device: "/dev/sda1", format: "ext4" }, { device: "/dev/sda1", format: "xfs" }] } },
    error: /^storage\.filesystems\.1\.device: duplicate filesystem device "\/dev\/sda1"/,
  },
  {
    rule: "RAID names are unique",
    good: { storage: { raid: [{ name: "a", level: "raid1", devices: ["/dev/sda"] }, { name: "b", level: "raid1", devices: ["/dev/sdb"] }] } },
    bad: { storage: { raid: [{ name: "a", level: "raid1", devices: ["/dev/sda"] }, { name: "a", level: "raid1", devices: ["/dev/sdb"] }] } },
    error: /^storage\.raid\.1\.name: duplicate RAID array "a"/,
  },
  {
    rule: "LUKS names are unique",
    version: "3.2.0",
    good: { storage: { luks: [{ name: "a", device: "/dev/sda" }, { name: "b", device: "/dev/sdb" }] } },
    bad: { storage: { luks: [{ name: "a", device: "/dev/sda" }, { name: "a", device: "/dev/sdb" }] } },
    error: /^storage\.luks\.1\.name: duplicate LUKS volume "a"/,
  },
  // systemd
  { rule: "unit names end in a unit type", good: unit({ name: "a.timer" }), bad: unit({ name: "a.txt" }), error: /^systemd\.units\.0\.name: unit name must end in a unit type/ },
  { rule: "unit names have no '/'", good: unit({ name: "a.service" }), bad: unit({ name: "x/a.service" }), error: /^systemd\.units\.0\.name: unit name must not contain "\/"/ },
  { rule: "drop-in names end in .conf", good: unit({ name: "a.service", dropins: [{ name: "10-x.conf" }] }), bad: unit({ name: "a.service", dropins: [{ name: "10-x" }] }), error: /^systemd\.units\.0\.dropins\.0\.name: drop-in name must end in "\.conf"/ },
  {
    rule: "unit contents are unit-file syntax",
    good: unit({ name: "a.service", contents: "# comment\n[Service]\nExecStart=/bin/true \\\n  --flag\n" }),
    bad: unit({ name: "a.service", contents: "[Service]\nthis is not a setting\n" }),
    error: /^systemd\.units\.0\.contents: unit line 2: expected Key=value/,
  },
  // resources
  { rule: "sha512 hashes have 128 hex digits", good: source("data:,x", { verification: { hash: SHA512 } }), bad: source("data:,x", { verification: { hash: "sha512-abc" } }), error: /verification\.hash: a sha512 hash has 128 hex digits, not 3$/ },
  { rule: "hashes name their function", good: source("data:,x", { verification: { hash: SHA512 } }), bad: source("data:,x", { verification: { hash: "b".repeat(128) } }), error: /verification\.hash: hash must look like sha512-<hex digits>/ },
  { rule: "hash functions are sha512 or sha256", version: "3.1.0", good: source("data:,x", { verification: { hash: SHA256 } }), bad: source("data:,x", { verification: { hash: "md5-" + "a".repeat(32) } }), error: /unsupported hash function "md5"/ },
  { rule: "a hash needs a source to verify", good: source("data:,x", { verification: { hash: SHA512 } }), bad: file({ path: "/x", contents: { verification: { hash: SHA512 } } }), error: /contents\.verification\.hash: verification\.hash is set but there is no source/ },
  { rule: "compression is gzip or empty", good: source("data:,x", { compression: "gzip" }), bad: source("data:,x", { compression: "bzip2" }), error: /contents\.compression: compression must be "gzip" or empty \(got "bzip2"\)$/ },
  { rule: "URL schemes are known", good: source("https://example.com/x"), bad: source("ftp://example.com/x"), error: /contents\.source: unsupported URL scheme "ftp"/ },
  { rule: "oem URLs (Flatcar's, in every version) name an absolute path", version: "3.0.0", good: source("oem:///files/x"), bad: source("oem://files/x"), error: /contents\.source: invalid oem URL "oem:\/\/files\/x": it names a file by its absolute path in the OEM tree/ },
  { rule: "URLs have a scheme", good: source("http://example.com/x"), bad: source("example.com/x"), error: /contents\.source: invalid URL "example\.com\/x": no scheme/ },
  { rule: "http URLs have a host", good: source("http://example.com/x"), bad: source("http://"), error: /contents\.source: invalid URL "http:\/\/"$/ },
  { rule: "data URLs have a comma", good: source("data:text/plain,hi"), bad: source("data:text/plain;hi"), error: /contents\.source: invalid data URL: missing ","/ },
  { rule: "data URLs have valid percent-encoding", good: source("data:,100%25"), bad: source("data:,100%"), error: /contents\.source: invalid data URL: bad percent-encoding/ },
  { rule: "base64 data URLs hold base64", good: source("data:;base64,aGVsbG8="), bad: source("data:;base64,a$b!"), error: /contents\.source: invalid data URL: invalid base64 data/ },
  { rule: "data URL media types are well formed", good: source("data:text/plain;charset=utf-8,hi"), bad: source("data:text plain,hi"), error: /contents\.source: invalid data URL: malformed media type/ },
  {
    rule: "HTTP headers are only for http(s) sources",
    version: "3.1.0",
    good: source("https://example.com/x", { httpHeaders: [{ name: "Authorization", value: "secret" }] }),
    bad: source("tftp://example.com/x", { httpHeaders: [{ name: "Authorization", value: "secret" }] }),
    error: /contents\.httpHeaders: httpHeaders can only be used with http and https sources, not tftp$/,
  },
  {
    rule: "HTTP header names are unique (as written, as in Ignition)",
    version: "3.1.0",
    good: source("https://example.com/x", { httpHeaders: [{ name: "A", value: "1" }, { name: "a", value: "2" }] }),
    bad: source("https://example.com/x", { httpHeaders: [{ name: "a", value: "1" }, { name: "a", value: "2" }] }),
    error: /contents\.httpHeaders\.1\.name: duplicate HTTP header "a"/,
  },
  { rule: "config references have a source", good: { ignition: { config: { merge: [{ source: "data:,%7B%7D" }] } } }, bad: { ignition: { config: { merge: [{ verification: {} }] } } }, error: /^ignition\.config\.merge\.0\.source: source is required$/ },
  {
    rule: "certificate authorities have unique sources",
    good: { ignition: { security: { tls: { certificateAuthorities: [{ source: "data:,a" }, { source: "data:,b" }] } } } },
    bad: { ignition: { security: { tls: { certificateAuthorities: [{ source: "data:,a" }, { source: "data:,a" }] } } } },
    error: /^ignition\.security\.tls\.certificateAuthorities\.1\.source: duplicate certificate authority source/,
  },
  { rule: "proxies are http(s) URLs", version: "3.1.0", good: { ignition: { proxy: { httpProxy: "http://proxy:3128" } } }, bad: { ignition: { proxy: { httpsProxy: "socks5://proxy:1080" } } }, error: /^ignition\.proxy\.httpsProxy: a proxy URL must be http or https, not socks5$/ },
  { rule: "timeouts are not negative", good: { ignition: { timeouts: { httpTotal: 0 } } }, bad: { ignition: { timeouts: { httpTotal: -1 } } }, error: /^ignition\.timeouts\.httpTotal: httpTotal must not be negative$/ },
  // files, directories, links
  { rule: "modes are within 07777", good: file({ path: "/x", mode: 0o755 }), bad: file({ path: "/x", mode: 0o10000 }), error: /^storage\.files\.0\.mode: mode must be between 0 and 4095/ },
  { rule: "modes are not negative", good: { storage: { directories: [{ path: "/d", mode: 0 }] } }, bad: { storage: { directories: [{ path: "/d", mode: -1 }] } }, error: /^storage\.directories\.0\.mode: mode must be between 0 and 4095/ },
  { rule: "overwrite needs contents.source (3.x)", good: file({ path: "/x", overwrite: true, contents: { source: "data:,x" } }), bad: file({ path: "/x", overwrite: true }), error: /^storage\.files\.0\.overwrite: overwrite is true but contents\.source is not set/ },
  { rule: "links have a target", good: { storage: { links: [{ path: "/l", target: "/t" }] } }, bad: { storage: { links: [{ path: "/l" }] } }, error: /^storage\.links\.0\.target: target is required$/ },
  {
    rule: "hard links do not point to directories",
    good: { storage: { directories: [{ path: "/d" }], links: [{ path: "/l", target: "/d" }] } },
    bad: { storage: { directories: [{ path: "/srv/d" }], links: [{ path: "/srv/l", target: "d", hard: true }] } },
    error: /^storage\.links\.0\.target: a hard link cannot point to a directory/,
  },
  { rule: "owners are given by id or by name, not both", good: file({ path: "/x", user: { id: 500 } }), bad: file({ path: "/x", user: { id: 500, name: "core" } }), error: /^storage\.files\.0\.user: set either id or name, not both$/ },
  // partitions
  { rule: "partition labels are at most 36 characters", good: disk([{ label: "x".repeat(36) }]), bad: disk([{ label: "x".repeat(37) }]), error: /partitions\.0\.label: partition label is 37 characters long; GPT allows at most 36$/ },
  { rule: "partition labels have no colon", good: disk([{ label: "a-b" }]), bad: disk([{ label: "a:b" }]), error: /partitions\.0\.label: partition label must not contain ":"/ },
  { rule: "typeGuid is a GUID", good: disk([{ number: 1, typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4" }]), bad: disk([{ number: 1, typeGuid: "linux" }]), error: /partitions\.0\.typeGuid: typeGuid must be a GUID/ },
  { rule: "guid is a GUID", good: disk([{ number: 1, guid: "5f4e6c8a-1b2c-4d3e-8f90-a1b2c3d4e5f6" }]), bad: disk([{ number: 1, guid: "5f4e6c8a-1b2c-4d3e-8f90" }]), error: /partitions\.0\.guid: guid must be a GUID/ },
  { rule: "partition numbers fit a GPT", good: disk([{ number: 128 }]), bad: disk([{ number: 129 }]), error: /partitions\.0\.number: partition number must be at most 128, the entries of a GPT \(got 129\)$/ },
  { rule: "a partition has a number or a label", good: disk([{ label: "x" }, { number: 1 }]), bad: disk([{ number: 0, sizeMiB: 5 }]), error: /^storage\.disks\.0\.partitions\.0: a partition needs a number \(1 or more\) or a label/ },
  { rule: "partition numbers are not negative", good: disk([{ number: 0, label: "x" }]), bad: disk([{ number: -1, label: "x" }]), error: /partitions\.0\.number: partition number must not be negative/ },
  { rule: "shouldExist false needs a number", good: disk([{ number: 3, shouldExist: false }]), bad: disk([{ label: "x", shouldExist: false }]), error: /partitions\.0\.number: a partition with shouldExist false needs a non-zero number/ },
  { rule: "shouldExist false forbids other fields", good: disk([{ number: 3, shouldExist: false, wipePartitionEntry: true }]), bad: disk([{ number: 3, shouldExist: false, sizeMiB: 10 }]), error: /partitions\.0\.sizeMiB: sizeMiB must not be set when shouldExist is false/ },
  { rule: "placed partitions do not overlap", good: disk([{ number: 1, startMiB: 1, sizeMiB: 10 }, { number: 2, startMiB: 11, sizeMiB: 10 }]), bad: disk([{ number: 1, startMiB: 1, sizeMiB: 10 }, { number: 2, startMiB: 5, sizeMiB: 10 }]), error: /partitions\.1: partition overlaps storage\.disks\.0\.partitions\.0/ },
  { rule: "a fill-the-rest partition does not start inside another", good: disk([{ number: 1, startMiB: 1, sizeMiB: 10 }, { number: 2, startMiB: 11, sizeMiB: 0 }]), bad: disk([{ number: 1, startMiB: 1, sizeMiB: 10 }, { number: 2, startMiB: 10, sizeMiB: 0 }]), error: /partitions\.1: partition overlaps storage\.disks\.0\.partitions\.0 \(MiB 10–10 and 1–10\)$/ },
  { rule: "disk devices are absolute paths", good: { storage: { disks: [{ device: "/dev/sda" }] } }, bad: { storage: { disks: [{ device: "sda" }] } }, error: /^storage\.disks\.0\.device: device must be absolute/ },
  // RAID
  { rule: "RAID level is required", good: { storage: { raid: [{ name: "md", level: "raid1", devices: ["/dev/sda"] }] } }, bad: { storage: { raid: [{ name: "md", devices: ["/dev/sda"] }] } }, error: /^storage\.raid\.0\.level: level is required/ },
  { rule: "RAID level is known", good: { storage: { raid: [{ name: "md", level: "raid10", devices: ["/dev/sda"] }] } }, bad: { storage: { raid: [{ name: "md", level: "raid7", devices: ["/dev/sda"] }] } }, error: /^storage\.raid\.0\.level: unknown RAID level "raid7"/ },
  { rule: "RAID 0 has no spares", good: { storage: { raid: [{ name: "md", level: "raid1", spares: 1, devices: ["/dev/sda", "/dev/sdb"] }] } }, bad: { storage: { raid: [{ name: "md", level: "raid0", spares: 1, devices: ["/dev/sda", "/dev/sdb"] }] } }, error: /^storage\.raid\.0\.spares: RAID level raid0 cannot have spares/ },
  { rule: "RAID devices are absolute paths", good: { storage: { raid: [{ name: "md", level: "raid1", devices: ["/dev/sda"] }] } }, bad: { storage: { raid: [{ name: "md", level: "raid1", devices: ["sda"] }] } }, error: /^storage\.raid\.0\.devices\.0: device must be absolute/ },
  { rule: "RAID arrays list their devices", good: { storage: { raid: [{ name: "md", level: "raid1", devices: ["/dev/sda"] }] } }, bad: { storage: { raid: [{ name: "md", level: "raid1" }] } }, error: /^storage\.raid\.0\.devices: devices is required/ },
  {
    rule: "deleting a partition needs every partition numbered",
    good: disk([{ number: 1, label: "a" }, { number: 2, shouldExist: false }]),
    bad: disk([{ label: "a" }, { number: 2, shouldExist: false }]),
    error: /^storage\.disks\.0\.partitions: when a partition has shouldExist false, every partition on the disk needs a number$/,
  },
  // filesystems

  { rule: "filesystem formats are known", good: fs({ format: "btrfs" }), bad: fs({ format: "ntfs" }), error: /^storage\.filesystems\.0\.format: unknown filesystem format "ntfs"/ },
  { rule: "format is required with other fields", good: fs({ format: "ext4", path: "/srv" }), bad: fs({ path: "/srv" }), error: /^storage\.filesystems\.0\.format: format is required when path is set$/ },
  { rule: "a vfat label is counted in bytes", good: fs({ format: "vfat", label: "x".repeat(11) }), bad: fs({ format: "vfat", label: "é".repeat(6) }), error: /^storage\.filesystems\.0\.label: a vfat label is at most 11 bytes \(got 12\)$/ },
  { rule: "filesystem labels fit the format", good: fs({ format: "xfs", label: "x".repeat(12) }), bad: fs({ format: "xfs", label: "x".repeat(13) }), error: /^storage\.filesystems\.0\.label: a xfs label is at most 12 bytes \(got 13\)$/ },
  { rule: "format is not needed for wipeFilesystem false", good: fs({ wipeFilesystem: false }), bad: fs({ wipeFilesystem: true }), error: /^storage\.filesystems\.0\.format: format is required when wipeFilesystem is set$/ },
  { rule: "filesystem paths are absolute", good: fs({ format: "ext4", path: "/srv" }), bad: fs({ format: "ext4", path: "srv" }), error: /^storage\.filesystems\.0\.path: path must be absolute/ },
  { rule: "virtiofs tags (3.7.0-experimental) are at most 36 characters", version: "3.7.0-experimental", good: { storage: { filesystems: [{ device: "shared", format: "virtiofs", path: "/mnt/shared" }] } }, bad: { storage: { filesystems: [{ device: "t".repeat(37), format: "virtiofs", path: "/mnt/shared" }] } }, error: /^storage\.filesystems\.0\.device: a virtiofs tag is at most 36 characters/ },
  // LUKS
  { rule: "LUKS needs a device", version: "3.2.0", good: luks({}), bad: { storage: { luks: [{ name: "data" }] } }, error: /^storage\.luks\.0\.device: device is required$/ },
  { rule: "tang servers need a thumbprint", version: "3.2.0", good: luks({ clevis: { tang: [{ url: "http://tang.example", thumbprint: "abc" }] } }), bad: luks({ clevis: { tang: [{ url: "http://tang.example" }] } }), error: /clevis\.tang\.0\.thumbprint: thumbprint is required$/ },
  { rule: "tang URLs are http(s)", version: "3.2.0", good: luks({ clevis: { tang: [{ url: "https://tang.example", thumbprint: "abc" }] } }), bad: luks({ clevis: { tang: [{ url: "tftp://tang.example", thumbprint: "abc" }] } }), error: /clevis\.tang\.0\.url: a tang URL must be http or https, not tftp$/ },
  { rule: "custom clevis pins are known before 3.6.0", version: "3.5.0", good: luks({ clevis: { custom: { pin: "sss", config: "{}" } } }), bad: luks({ clevis: { custom: { pin: "yubikey", config: "{}" } } }), error: /clevis\.custom\.pin: custom pin must be one of tpm2, tang, sss before spec 3\.6\.0 \(got "yubikey"\)$/ },
  { rule: "3.6.0 takes any custom clevis pin, but one is needed", version: "3.6.0", good: luks({ clevis: { custom: { pin: "yubikey", config: "{}" } } }), bad: luks({ clevis: { custom: { config: "{}" } } }), error: /clevis\.custom\.pin: a custom pin is required with a custom config$/ },
  { rule: "custom clevis stands alone", version: "3.2.0", good: luks({ clevis: { custom: { pin: "tpm2", config: "{}" } } }), bad: luks({ clevis: { tpm2: true, custom: { pin: "tpm2", config: "{}" } } }), error: /clevis\.custom: custom clevis configuration cannot be combined/ },
  { rule: "tang advertisements are JSON", version: "3.4.0", good: luks({ clevis: { tang: [{ url: "http://t", thumbprint: "x", advertisement: '{"payload":"x"}' }] } }), bad: luks({ clevis: { tang: [{ url: "http://t", thumbprint: "x", advertisement: "{" }] } }), error: /advertisement: advertisement must be valid JSON$/ },
  { rule: "cex excludes clevis", version: "3.5.0", good: luks({ cex: { enabled: false }, clevis: { tpm2: true } }), bad: luks({ cex: { enabled: true }, clevis: { tpm2: true } }), error: /^storage\.luks\.0\.cex: cex cannot be combined with clevis$/ },
  { rule: "cex is refused with the reason (IBM Z only; Flint has no zkey)", version: "3.5.0", good: luks({ cex: { enabled: false } }), bad: luks({ cex: { enabled: true } }), error: /^storage\.luks\.0\.cex\.enabled: cex (needs IBM Crypto Express adapters, which only IBM Z \(s390x\) has|\(IBM Crypto Express secure keys made with zkey\) is not supported by Flint)/ },
  { rule: "LUKS labels are at most 47 characters", version: "3.2.0", good: luks({ label: "x".repeat(47) }), bad: luks({ label: "x".repeat(48) }), error: /^storage\.luks\.0\.label: a LUKS label is at most 47 characters/ },
  { rule: "LUKS names have no '/'", version: "3.2.0", good: { storage: { luks: [{ name: "a-b", device: "/dev/sda" }] } }, bad: { storage: { luks: [{ name: "a/b", device: "/dev/sda" }] } }, error: /^storage\.luks\.0\.name: LUKS name must not contain "\/"/ },
  // more URLs
  { rule: "S3 ARNs name a bucket and a key", version: "3.4.0", good: source("arn:aws:s3:us-west-2:123456789012:accesspoint/ap/some/object"), bad: source("arn:aws:s3:::bucket-name-but-no-key"), error: /contents\.source: invalid S3 ARN/ },
  { rule: "S3 versionId is not empty", good: source("s3://bucket/key?versionId=abc"), bad: source("s3://bucket/key?versionId="), error: /contents\.source: invalid S3 object versionId: it is empty$/ },
  { rule: "instantiated unit names have a prefix", good: unit({ name: "getty@tty1.service" }), bad: unit({ name: "@tty1.service" }), error: /^systemd\.units\.0\.name: invalid instantiated unit name "@tty1\.service"/ },
  // kernel arguments
  {
    rule: "a kernel argument is not both wanted and unwanted",
    version: "3.3.0",
    good: { kernelArguments: { shouldExist: ["quiet"], shouldNotExist: ["splash"] } },
    bad: { kernelArguments: { shouldExist: ["quiet"], shouldNotExist: ["quiet"] } },
    error: /^kernelArguments\.shouldNotExist\.0: kernel argument "quiet" is in both shouldExist and shouldNotExist$/,
  },
];

describe("config validation rules", () => {
  for (const r of RULES) {
    describe(r.rule, () => {
      const version = r.version ?? "3.0.0";
      const options = { allowExperimental: version.endsWith("-experimental") };
      it("accepts a config that follows it", () => {
        parse(doc(version, r.good), options);
      });
      it("rejects a config that breaks it, naming the path, line and column", () => {
        const lines = errorLines(doc(version, r.bad), options);
        const match = lines.find((l) => r.error.test(l.replace(/ \(line \d+, column \d+\)$/, "")));
        assert.ok(match, `expected an error matching ${r.error}, got:\n${lines.join("\n")}`);
        assert.match(match, /\(line \d+, column \d+\)$/);
      });
    });
  }

  // Ignition v2.17 and v2.26 accept these (ignition-validate says nothing); the tool or systemd fails later.
  const DOUBTS: { what: string; version?: string; config: Record<string, unknown>; warning: RegExp }[] = [
    { what: "a setting before any [Section] header", config: unit({ name: "a.service", contents: "A=b\n[Unit]\nC=d" }), warning: /^systemd\.units\.0\.contents: unit line 1: a setting comes before any \[Section\] header; systemd ignores it/ },
    { what: "a hash value of the right length that is not hexadecimal", config: source("data:,x", { verification: { hash: "sha512-" + "z".repeat(128) } }), warning: /verification\.hash: hash value is not hexadecimal: no contents can match it/ },
    { what: "RAID spares that leave no active member", config: { storage: { raid: [{ name: "md", level: "raid1", spares: 2, devices: ["/dev/sda", "/dev/sdb"] }] } }, warning: /^storage\.raid\.0\.spares: 2 spare\(s\) leave no active member among 2 device\(s\): mdadm will refuse/ },
    { what: "an ext4 uuid that is not a UUID", config: fs({ format: "ext4", uuid: "not-a-uuid" }), warning: /^storage\.filesystems\.0\.uuid: not a valid ext4 uuid \(got "not-a-uuid"\): mkfs will refuse it/ },
    { what: "a vfat uuid that is not a volume id", config: fs({ format: "vfat", uuid: "0f6b1b1e-9c4a-4d59-9a4e-6b0c1f0e2a11" }), warning: /^storage\.filesystems\.0\.uuid: not a valid vfat uuid .*volume id like 1234-ABCD\): mkfs will refuse it/ },
    { what: "two filesystems mounted at one path", config: { storage: { filesystems: [{ device: "/dev/sda", format: "ext4", path: "/var" }, { device: "/dev/sdb", format: "ext4", path: "/var" }] } }, warning: /^storage\.filesystems\.1\.path: filesystems 0 and 1 are both mounted at \/var: this one goes over the other/ },
    { what: "a unit name with characters systemd does not allow", config: unit({ name: "a b.service" }), warning: /^systemd\.units\.0\.name: unit name "a b\.service" has characters systemd does not allow, so it will not load it/ },
  ];
  for (const d of DOUBTS) {
    it(`warns about ${d.what} with line and column, and accepts it as Ignition does`, () => {
      const lines = warningLines(doc(d.version ?? "3.0.0", d.config));
      const match = lines.find((l) => d.warning.test(l));
      assert.ok(match, `expected a warning matching ${d.warning}, got:\n${lines.join("\n")}`);
      assert.match(match, /\(line \d+, column \d+\)$/);
      // Ignition and Butane say nothing here, so --strict (Butane's) does not make it an error either.
      assert.ok(parse(doc(d.version ?? "3.0.0", d.config), { strict: true }).warnings.some((w) => d.warning.test(formatIssue(w))));
    });
  }

  it("accepts a file with contents but no mode (it gets 0644), without a warning", () => {
    assert.deepEqual(parse(doc("3.0.0", { storage: { files: [{ path: "/x", contents: { source: "data:,x" } }] } })).warnings, []);
  });

  it("warns (but accepts) where Ignition warns, and nowhere else (mountOptions without a path)", () => {
    const parsed = parse(
      doc("3.1.0", {
        ignition: { proxy: { httpsProxy: "http://proxy:3128" } },
        storage: {
          disks: [{ device: "/dev/sdb", wipeTable: true }, { device: "/dev/sdc", partitions: [{ number: 1 }] }],
          filesystems: [{ device: "/dev/sdb", format: "ext4" }, { device: "/dev/sdd", format: "ext4" }, { device: "/dev/sdc", format: "xfs" }, { device: "/dev/sde", format: "xfs", mountOptions: ["noatime"] }],
          links: [{ path: "/l", target: "/t", hard: true, user: { id: 1 } }],
        },
        systemd: {
          units: [
            { name: "a.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n" },
            { name: "t@.service", contents: "[Service]\nExecStart=/bin/echo %i\n" },
            { name: "t@x.service", enabled: true },
          ],
        },
      }),
    );
    assert.deepEqual(
      parsed.warnings.map((w) => `${w.path.join(".")}: ${w.message}`),
      [
        "ignition.proxy.httpsProxy: a plain-HTTP proxy for HTTPS requests can see their hosts (the traffic itself stays encrypted)",
        "storage.filesystems.0.device: disk /dev/sdb has wipeTable set, so this filesystem will be wiped",
        "storage.filesystems.2.device: filesystem overwrites disk /dev/sdc, which this config partitions",
        "storage.links.0.user: user and group are ignored for a hard link: it shares its target's owner",
        "systemd.units.0.contents: unit a.service is enabled, but has no [Install] section, so enabling does nothing",
        "systemd.units.2.contents: template unit t@.service for t@x.service has no [Install] section, so enabling does nothing",
      ],
    );
  });

  it("treats an empty contents source as empty contents", () => {
    const parsed = parse(doc("3.0.0", { storage: { files: [{ path: "/x", mode: 420, contents: { source: "" } }] } }));
    assert.equal(parsed.config.storage!.files!.at(0)!.contents!.source, "data:,");
  });

  it("hides credentials of an invalid URL in its message", () => {
    const [line] = errorLines(doc("3.0.0", { storage: { files: [{ path: "/x", contents: { source: "https://user:hunter2@" } }] } }));
    assert.match(line!, /invalid URL "https:\/\/\*\*\*@"/);
    assert.doesNotMatch(line!, /hunter2/);
  });

  it("quotes odd unknown keys so they cannot forge output lines", () => {
    const [warning] = parse(doc("3.0.0", { storage: { "x\nerror: forged": 1 } })).warnings;
    assert.equal(warning!.message, 'unknown key "x\\nerror: forged" ignored');
  });

  it("never quotes unit contents or SSH keys back in messages", () => {
    const lines = errorLines(
      doc("3.0.0", {
        systemd: { units: [{ name: "a.service", contents: "[Service]\nPassword hunter2\n" }] },
        passwd: { users: [{ name: "core", sshAuthorizedKeys: ["ssh-ed25519 SECRETKEY", "ssh-ed25519 SECRETKEY"] }] },
      }),
    );
    assert.equal(lines.length, 2);
    for (const line of lines) assert.doesNotMatch(line, /hunter2|SECRETKEY/);
  });
});

describe("data URL syntax", () => {
  // Each verdict is ignition-validate v2.17.0's on the same source (checked when this table was written).
  const verdicts: [url: string, ignition: boolean][] = [
    ["data:,a b", false], ["data:,a%zzb", false], ["data:,a%2", false], ["data:,%41", true], ["data:;base64,YQ= =", false],
    ["data:text/plain;charset=utf-8,a", true], ["data:text/plain;base64,YQ", false], ["data:,a\tb", false], ['data:,a"b', false],
    ["data:,a<b>", false], ["data:,é", false], ["data:,a#b", false], ["data:,a?b", true], ["DATA:,a", false], ["data:foo/bar,a", false],
    ["data:x-foo/bar,a", true], ["data:text/plain;BASE64,YQ==", false], ["data:;base64,YQ==", true], ["data:;base64,YQ=", false],
    ["data:;base64,-_==", false], ["data:;base64,YQ%3D%3D", false], ["data:text/,a", true], ["data:text,a", false], ["data:;a=b,x", true],
    ["data:;a,x", false], ["data:;base64;a=b,x", false], ["data:text/plain;a=%zz,x", false], ["data:,", true], ["data:;charset=utf-8,a", true],
    ["data:application/json,{}", false], ["data:,%E2%82%AC", true], ["data:,~!*()", true], ["data:,'", true], ["data:,[x]", false],
    ["data:image/svg+xml,a", true], ['data:;a="b",x', true], ['data:;a="b c",x', true], ['data:;a="b;c";base64,YQ==', true], ['data:;a="b"x,y', false],
    ['data:;a="b\\\\q",x', true], ['data:;a="b\\q",x', false], ["data:text/plain;charset=utf-8;base64,YQ==", true],
  ];
  it("accepts and refuses what Ignition's data URL library does", () => {
    for (const [url, ok] of verdicts) assert.equal(dataUrlProblem(url) === undefined, ok, `${url}: ${dataUrlProblem(url)}`);
  });
  it("refuses an upper-case scheme, as Ignition's data URL library does", () => {
    assert.deepEqual(errorLines(doc("3.0.0", source("Data:,hi"))).map((l) => l.replace(/ \(line.*$/, "")), ['storage.files.0.contents.source: invalid data URL: it must begin with "data:" in lower case']);
  });
});

describe("paths across files, directories and links", () => {
  it("names every entry under a file or link, each duplicate, and each hard link to a directory, in document order", () => {
    const text = `{"ignition":{"version":"3.4.0"},"storage":{
 "files":[{"path":"/a","contents":{"source":"data:,x"}},{"path":"/a/b"},{"path":"/d/x"},{"path":"/l/y/z"},{"path":"/a"},{"path":"/q"}],
 "directories":[{"path":"/d"},{"path":"/a/c"},{"path":"/q"}],
 "links":[{"path":"/l","target":"/d"},{"path":"/h","target":"d","hard":true},{"path":"/d/h2","target":"/d","hard":true},{"path":"/a/z/h3","target":"../../d","hard":true}]}}`;
    assert.deepEqual(errorLines(text), [
      'storage.files.1.path: parent "/a" is a file at storage.files.0, not a directory (line 2, column 65)',
      'storage.files.3.path: parent "/l" is a link (writing through links defined in the same config is not allowed) at storage.links.0, not a directory (line 2, column 97)',
      'storage.files.4.path: duplicate path "/a" (already used by storage.files.0) (line 2, column 115)',
      'storage.directories.1.path: parent "/a" is a file at storage.files.0, not a directory (line 3, column 39)',
      'storage.directories.2.path: path "/q" is both a file (storage.files.5) and a directory (line 3, column 55)',
      "storage.links.1.target: a hard link cannot point to a directory (d) (line 4, column 61)",
      "storage.links.2.target: a hard link cannot point to a directory (/d) (line 4, column 103)",
      'storage.links.3.path: parent "/a" is a file at storage.files.0, not a directory (line 4, column 129)',
      "storage.links.3.target: a hard link cannot point to a directory (../../d) (line 4, column 148)",
    ]);
  });
});

describe("paths written by units and by storage entries", () => {
  it("names every entry at a unit's or drop-in's path, the repeated ones too", () => {
    const text = `{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/systemd/system/a.service"},{"path":"/x"},{"path":"/etc/systemd/system/a.service"}],"links":[{"path":"/etc/systemd/system/b.service.d/x.conf","target":"/x"}]},
"systemd":{"units":[{"name":"a.service","contents":"[Unit]\\n"},{"name":"b.service","dropins":[{"name":"x.conf","contents":"[Unit]\\n"}]},{"name":"c.service","contents":"[Unit]\\n"}]}}`;
    assert.deepEqual(errorLines(text), [
      "storage.files.0.path: path /etc/systemd/system/a.service is also written by systemd.units.0 (line 1, column 61)",
      'storage.files.2.path: duplicate path "/etc/systemd/system/a.service" (already used by storage.files.0) (line 1, column 116)',
      "storage.files.2.path: path /etc/systemd/system/a.service is also written by systemd.units.0 (line 1, column 116)",
      "storage.links.0.path: path /etc/systemd/system/b.service.d/x.conf is also written by systemd.units.1.dropins.0 (line 1, column 167)",
    ]);
  });
});
