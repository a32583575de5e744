// The differential test of issue 27: seeded random configs, Butane YAML and
// Ignition JSON, through the real Butane v0.19.0 and Ignition v2.17.0 (from
// ../shared/anchors beside the clone) and through Flint, compared on what a
// user sees: accepted or not (with and without --strict), the fields warned
// about, and the meaning of the output (Butane's Ignition JSON; the config
// Ignition's fetch-offline stage caches). Skipped when the binaries are absent.
// The differences Flint keeps on purpose are in `KEPT` below and in
// docs/configs.md ("Differences from the references kept on purpose").
//
//   FLINT_DIFF_SEED=n      another seed (default 27)
//   FLINT_DIFF_CASES=n     configs of each kind (default 150)
//   FLINT_DIFF_SHOW=n      differences shown (default 8); FLINT_DIFF_DUMP=FILE writes them all as JSON

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigInvalidError, parseConfig, type ConfigIssue } from "../../../agent/config/index";
import { forgetSecrets } from "../../../agent/secrets";
import { normalizeIgnition } from "../../../scripts/lib/butane-normalize.mjs";

const ANCHORS = [join(__dirname, "../../../../shared/anchors"), "/work/shared/anchors"].find((d) => existsSync(join(d, "butane-v0.19.0/butane")));
const SEED = Number(process.env.FLINT_DIFF_SEED ?? 27);
const CASES = Number(process.env.FLINT_DIFF_CASES ?? 150);

// ---------------------------------------------------------------------------
// A seeded generator (mulberry32) and the pieces configs are made of.

class Rng {
  /** Mostly good values: the first half of each list, few repeats. */
  careful = false;
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const n = this.careful && this.next() < 0.95 ? Math.ceil(items.length / 2) : items.length;
    return items[Math.floor(this.next() * n)]!;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** 0..n items made by `make`, sometimes with one repeated. */
  list<T>(max: number, make: () => T): T[] {
    const out = Array.from({ length: this.int(0, max) }, make);
    if (out.length > 0 && this.chance(this.careful ? 0.02 : 0.15)) out.push(out[0]!);
    return out;
  }
}

type Obj = Record<string, unknown>;
const PATHS = ["/etc/motd", "/etc/hostname", "/var/lib/app/conf", "/opt/x", "/etc/motd", "etc/relative", "/etc/trailing/", "/srv/a b"];
/** Good values first: a careful config (Rng.careful) mostly picks from the first half of each list. */
const SOURCES = [
  "data:,hello",
  "data:,hello%20world",
  "data:;base64,aGVsbG8=",
  "data:text/plain;charset=utf-8,hi",
  "http://127.0.0.1:8080/f",
  "tftp://127.0.0.1/f",
  "s3://bucket/key",
  "",
  "https://127.0.0.1/f?x=%zz",
  "gs://bucket/key",
  "data:,a b",
  "data:,a%zzb",
  "data:;base64,aGVsbG8",
  "data:text/plain;BASE64,YQ==",
  "data:foo/bar,x",
  "data:,{}",
  "http://127.0.0.1/%zz",
  "ftp://127.0.0.1/f",
  "relative/url",
];
const UNIT_NAMES = ["app.service", "app.service", "backup.timer", "data.mount", "noext", "t@.service", "t@x.service", "x.sock"];
const UNIT_CONTENTS = [
  "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n",
  "[Service]\nExecStart=/bin/true\n",
  "",
  "# only a comment\n",
  "[Unit]\n",
  "[Install]\nWantedBy=multi-user.target\n",
];
const DEVICES = ["/dev/vdb", "/dev/vdc", "/dev/vdb1", "/dev/disk/by-partlabel/data", "/dev/mapper/root", "/dev/md/md0", "vdb"];
const FORMATS = ["ext4", "xfs", "vfat", "swap", "btrfs", "none", "ntfs"];

function resource(r: Rng, minor: number): Obj {
  const out: Obj = { source: r.pick(SOURCES) };
  if (r.chance(0.15)) out.compression = r.pick(["gzip", "", "bzip2"]);
  if (minor >= 1 && r.chance(0.2)) {
    out.httpHeaders = r.list(2, () => {
      const h: Obj = {};
      if (r.chance(0.9)) h.name = r.pick(["X-A", "Authorization", "x-a", ""]);
      if (r.chance(0.85)) h.value = r.pick(["1", "token", ""]);
      return h;
    });
  }
  if (r.chance(0.1)) out.verification = { hash: r.pick(["sha512-" + "a".repeat(128), "sha256-" + "b".repeat(64), "md5-abc", "sha512-xyz"]) };
  return out;
}

function owner(r: Rng): Obj {
  return r.pick([{ id: 0 }, { name: "root" }, { id: 1000, name: "core" }, {}]);
}

/** An Ignition config of spec 3.`minor`, as an object (numbers to write oddly are strings "\u0000420.0"). */
function ignitionConfig(r: Rng, minor: number): Obj {
  const ignition: Obj = { version: `3.${minor}.0` };
  if (r.chance(0.15)) ignition.config = { merge: r.list(2, () => ({ source: r.pick(["data:,%7B%7D", "http://127.0.0.1/c.ign", "http://127.0.0.1/c.ign"]) })) };
  if (minor >= 1 && r.chance(0.15)) {
    const proxy: Obj = {};
    if (r.chance(0.7)) proxy.httpProxy = r.pick(["http://127.0.0.1:3128", "", "https://127.0.0.1:3128", "socks5://127.0.0.1"]);
    if (r.chance(0.5)) proxy.httpsProxy = r.pick(["http://127.0.0.1:3128", "https://127.0.0.1:3128", ""]);
    if (r.chance(0.5)) proxy.noProxy = r.list(2, () => r.pick(["10.0.0.0/8", "example.test", ".corp.test"]));
    ignition.proxy = proxy;
  }
  if (r.chance(0.1)) ignition.timeouts = { httpTotal: r.pick([10, -1, 0]), httpResponseHeaders: r.pick([5, "5"]) };
  const config: Obj = { ignition };
  const storage: Obj = {};
  if (r.chance(0.6)) {
    storage.files = r.list(3, () => {
      const f: Obj = { path: r.pick(PATHS) };
      if (r.chance(0.6)) f.contents = resource(r, minor);
      if (r.chance(0.15)) f.append = r.list(2, () => resource(r, minor));
      if (r.chance(0.6)) f.mode = r.pick([420, 493, 384, 0o4755, 0o1777, 644, 5000, -1, "420", "\u0000420.0", "\u00004.2e2"]);
      if (r.chance(0.2)) f.overwrite = r.pick([true, false, "yes"]);
      if (r.chance(0.2)) f.user = owner(r);
      if (r.chance(0.1)) f.group = owner(r);
      return f;
    });
  }
  if (r.chance(0.3)) storage.directories = r.list(2, () => ({ path: r.pick(PATHS), ...(r.chance(0.5) ? { mode: r.pick([493, 448, 0o1777]) } : {}) }));
  if (r.chance(0.3)) {
    storage.links = r.list(2, () => {
      const l: Obj = { path: r.pick(PATHS) };
      if (r.chance(0.9)) l.target = r.pick(["/etc/motd", "relative", "/opt/x", ""]);
      if (r.chance(0.3)) l.hard = r.pick([true, false]);
      if (r.chance(0.15)) l.user = owner(r);
      return l;
    });
  }
  if (r.chance(0.25)) {
    storage.disks = r.list(2, () => ({
      device: r.pick(DEVICES),
      ...(r.chance(0.4) ? { wipeTable: r.pick([true, false]) } : {}),
      partitions: r.list(3, () => {
        const p: Obj = {};
        if (r.chance(0.6)) p.number = r.pick([0, 1, 2, 3, 4, 129, -1]);
        if (r.chance(0.7)) p.label = r.pick(["data", "root", "boot", "EFI-SYSTEM", "x".repeat(40), "data"]);
        if (r.chance(0.5)) p.sizeMiB = r.pick([0, 100, 1024, -5]);
        if (r.chance(0.3)) p.startMiB = r.pick([0, 1, 200]);
        if (r.chance(0.2)) p.typeGuid = r.pick(["0FC63DAF-8483-4772-8E79-3D69D8477DE4", "linux", "not-a-guid"]);
        if (r.chance(0.15)) p.shouldExist = r.pick([true, false]);
        if (minor >= 2 && r.chance(0.1)) p.resize = true;
        return p;
      }),
    }));
  }
  if (r.chance(0.15)) {
    storage.raid = r.list(1, () => ({
      name: r.pick(["md0", "md1", "a/b"]),
      level: r.pick(["raid1", "raid0", "raid5", "linear", "raid7"]),
      devices: r.list(3, () => r.pick(["/dev/vdb", "/dev/vdc", "/dev/vdd"])),
      ...(r.chance(0.3) ? { spares: r.pick([0, 1, 2]) } : {}),
      ...(r.chance(0.2) ? { options: ["--x", "--x"] } : {}),
    }));
  }
  if (r.chance(0.3)) {
    storage.filesystems = r.list(2, () => {
      const fs: Obj = { device: r.pick(DEVICES) };
      if (r.chance(0.85)) fs.format = r.pick(FORMATS);
      if (r.chance(0.5)) fs.path = r.pick(["/var", "/srv", "/var", "srv"]);
      if (r.chance(0.3)) fs.label = r.pick(["data", "a-long-label-for-xfs", "boot"]);
      if (r.chance(0.2)) fs.wipeFilesystem = r.pick([true, false]);
      if (minor >= 1 && r.chance(0.2)) fs.mountOptions = r.list(2, () => r.pick(["noatime", "ro"]));
      if (r.chance(0.1)) fs.uuid = r.pick(["8a2b6f77-9f43-4c4e-9b0b-0e5f1c0a3b11", "nope"]);
      return fs;
    });
  }
  if (minor >= 2 && r.chance(0.15)) {
    storage.luks = r.list(1, () => {
      const l: Obj = { name: r.pick(["data", "root", "a/b"]), device: r.pick(DEVICES) };
      if (r.chance(0.3)) l.keyFile = resource(r, minor);
      if (r.chance(0.4)) l.clevis = r.pick([{ tpm2: true }, { tang: [{ url: "http://127.0.0.1:8000", thumbprint: "abc" }] }, { tang: [{ url: "http://127.0.0.1:8000" }] }, { custom: { pin: "tpm2", config: "{}" } }]);
      if (minor >= 4 && r.chance(0.4)) l.openOptions = r.list(2, () => r.pick(["--allow-discards", "--perf-no_read_workqueue"]));
      if (minor >= 4 && r.chance(0.2)) l.discard = r.pick([true, false]);
      if (r.chance(0.2)) l.wipeVolume = true;
      return l;
    });
  }
  if (Object.keys(storage).length > 0) config.storage = storage;
  if (r.chance(0.4)) {
    config.systemd = {
      units: r.list(3, () => {
        const u: Obj = { name: r.pick(UNIT_NAMES) };
        if (r.chance(0.5)) u.enabled = r.pick([true, false]);
        if (r.chance(0.15)) u.mask = r.pick([true, false]);
        if (r.chance(0.6)) u.contents = r.pick(UNIT_CONTENTS);
        if (r.chance(0.25)) u.dropins = r.list(2, () => ({ name: r.pick(["10-a.conf", "10-a.conf", "bad.txt"]), ...(r.chance(0.7) ? { contents: r.pick(["[Service]\nEnvironment=A=1\n", ""]) } : {}) }));
        return u;
      }),
    };
  }
  if (r.chance(0.35)) {
    config.passwd = {
      users: r.list(2, () => {
        const u: Obj = { name: r.pick(["core", "alice", "core", ""]) };
        if (r.chance(0.4)) u.sshAuthorizedKeys = r.list(2, () => r.pick(["ssh-ed25519 AAAAkey1", "ssh-ed25519 AAAAkey2"]));
        if (r.chance(0.3)) u.groups = r.list(2, () => r.pick(["wheel", "sudo", "docker"]));
        if (r.chance(0.2)) u.uid = r.pick([1000, -1, 4294967296]);
        if (r.chance(0.2)) u.passwordHash = r.pick(["$6$salt$hash", "bad:hash"]);
        if (r.chance(0.1)) u.homeDir = r.pick(["/home/x", "home"]);
        return u;
      }),
      ...(r.chance(0.3) ? { groups: r.list(2, () => ({ name: r.pick(["ops", "ops", "dev"]), ...(r.chance(0.4) ? { gid: r.pick([1001, -1]) } : {}) })) } : {}),
    };
  }
  if (minor >= 3 && r.chance(0.15)) {
    const k: Obj = {};
    if (r.chance(0.7)) k.shouldExist = r.list(2, () => r.pick(["quiet", "console=ttyS0", "foo=bar"]));
    if (r.chance(0.5)) k.shouldNotExist = r.list(2, () => r.pick(["quiet", "rhgb"]));
    config.kernelArguments = k;
  }
  if (r.chance(0.1)) config[r.pick(["colour", "Storage", "IGNITION"])] = {};
  return config;
}

/** The JSON text, with a key now and then in another case, and numbers written as "\u0000<text>" put in raw. */
function ignitionText(r: Rng, config: Obj): string {
  const recase = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(recase);
    if (typeof value !== "object" || value === null) return value;
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[r.chance(0.03) ? k[0]!.toUpperCase() + k.slice(1) : k] = recase(v);
    return out;
  };
  return JSON.stringify(recase(config)).replace(/"\\u0000([^"]*)"/g, "$1");
}

// ---------------------------------------------------------------------------
// Butane configs, as YAML text.

const BUTANE_VERSIONS: [variant: string, version: string, ignitionMinor: number][] = [
  ["fcos", "1.0.0", 0], ["fcos", "1.1.0", 1], ["fcos", "1.2.0", 2], ["fcos", "1.3.0", 2], ["fcos", "1.4.0", 3], ["fcos", "1.5.0", 4], ["flatcar", "1.0.0", 3], ["flatcar", "1.1.0", 4],
];

/** A scalar written into the YAML as it is (a mode like 0644, quoted or not). */
class Raw {
  constructor(readonly text: string) {}
}

function yamlScalar(r: Rng, v: unknown): string {
  if (v instanceof Raw) return v.text;
  if (typeof v === "string") return v === "" || /[:#{}[\],&*!|>'"%@`]|^\s|\s$|^(yes|no|on|off|y|n|true|false|null|~|\d.*)$/i.test(v) ? JSON.stringify(v) : v;
  if (typeof v === "boolean") return r.chance(0.15) ? r.pick(v ? ['"yes"', "yes", "'on'", "True"] : ['"no"', "off", "'N'", "False"]) : String(v);
  return String(v);
}

function toYaml(r: Rng, value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return " []\n";
    return "\n" + value.map((item) => `${indent}- ${toYaml(r, item, indent + "  ").replace(/^\n\s*/, "")}`).join("");
  }
  if (typeof value === "object" && value !== null && !(value instanceof Raw)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return " {}\n";
    return "\n" + entries.map(([k, v]) => `${indent}${k}:${toYaml(r, v, indent + "  ").replace(/^(?!\n)/, " ")}`).join("");
  }
  if (typeof value === "string" && value.includes("\n")) return ` |\n${value.replace(/\n$/, "").split("\n").map((l) => `${indent}  ${l}`).join("\n")}\n`;
  return `${yamlScalar(r, value)}\n`;
}

function butaneConfig(r: Rng): { text: string; variant: string; minor: number } {
  const [variant, version, minor] = r.pick(BUTANE_VERSIONS);
  const doc: Obj = {};
  const storage: Obj = {};
  if (r.chance(0.6)) {
    storage.files = r.list(3, () => {
      const f: Obj = { path: r.pick(PATHS) };
      const c = r.int(0, 3);
      if (c === 1) f.contents = { inline: r.pick(["hello\n", "a b c", "", "x".repeat(300)]) };
      if (c === 2) f.contents = { source: r.pick(SOURCES) };
      if (c === 3) f.contents = { inline: "x", source: "data:,y" };
      if (r.chance(0.5)) f.mode = new Raw(r.pick(["0644", "0755", "644", "420", "0o600", "0x1a4", "4_20", "420.5", '"0644"', "04755"]));
      if (r.chance(0.15)) f.overwrite = r.pick([true, false]);
      if (r.chance(0.1)) f.user = { name: "core" };
      return f;
    });
  }
  if (r.chance(0.2)) storage.directories = r.list(2, () => ({ path: r.pick(PATHS), ...(r.chance(0.5) ? { mode: new Raw(r.pick(["0755", "0700"])) } : {}) }));
  if (r.chance(0.2)) storage.links = r.list(2, () => ({ path: r.pick(PATHS), target: r.pick(["/etc/motd", "rel"]), ...(r.chance(0.3) ? { hard: r.pick([true, false]) } : {}) }));
  if (r.chance(0.25)) {
    storage.disks = r.list(1, () => ({
      device: r.pick(DEVICES),
      ...(r.chance(0.4) ? { wipe_table: r.pick([true, false]) } : {}),
      partitions: r.list(3, () => {
        const p: Obj = {};
        if (r.chance(0.6)) p.number = r.pick([0, 1, 2, 3, 4, 5]);
        if (r.chance(0.8)) p.label = r.pick(["data", "root", "boot", "EFI-SYSTEM", "BIOS-BOOT", "var"]);
        if (r.chance(0.5)) p.size_mib = r.pick([0, 100, 1024]);
        return p;
      }),
    }));
  }
  if (r.chance(0.3)) {
    storage.filesystems = r.list(2, () => {
      const fs: Obj = { device: r.pick(DEVICES) };
      if (r.chance(0.85)) fs.format = r.pick(["ext4", "xfs", "swap", "vfat"]);
      if (r.chance(0.6)) fs.path = r.pick(["/var", "/srv", "/var/lib/data"]);
      if (r.chance(0.2)) fs.label = "data";
      if (r.chance(0.2)) fs.wipe_filesystem = r.pick([true, false]);
      if (minor >= 1 && r.chance(0.5)) fs.with_mount_unit = r.pick([true, false]);
      if (minor >= 1 && r.chance(0.2)) fs.mount_options = ["noatime"];
      return fs;
    });
  }
  if (Object.keys(storage).length > 0) doc.storage = storage;
  if (variant === "fcos" && minor >= 2 && r.chance(0.3)) {
    const bd: Obj = {};
    if (r.chance(0.6)) bd.luks = r.pick([{ tpm2: true }, { tang: [{ url: "http://127.0.0.1:8000", thumbprint: "abc" }] }, { tpm2: false }]);
    if (r.chance(0.5)) bd.mirror = { devices: r.pick([["/dev/vda", "/dev/vdb"], ["/dev/vda"], ["/dev/vda", "/dev/vdb", "/dev/vdc"]]) };
    if (r.chance(0.2)) bd.layout = r.pick(["x86_64", "aarch64", "ppc64le", "s390x"]);
    doc.boot_device = bd;
  }
  if (r.chance(0.4)) {
    doc.systemd = {
      units: r.list(3, () => {
        const u: Obj = { name: r.pick(["app.service", "var.mount", "srv.mount", "dev-vdb.swap", "noext", "app.service"]) };
        if (r.chance(0.5)) u.enabled = r.pick([true, false]);
        if (r.chance(0.1)) u.mask = true;
        if (r.chance(0.5)) u.contents = r.pick(UNIT_CONTENTS);
        if (r.chance(0.2)) u.dropins = [{ name: "10-a.conf", contents: "[Unit]\nDescription=y\n" }];
        return u;
      }),
    };
  }
  if (r.chance(0.3)) {
    doc.passwd = {
      users: r.list(2, () => ({
        name: r.pick(["core", "alice", "core"]),
        ...(r.chance(0.5) ? { ssh_authorized_keys: r.list(2, () => r.pick(["ssh-ed25519 AAAAkey1", "ssh-ed25519 AAAAkey2"])) } : {}),
        ...(r.chance(0.3) ? { groups: r.list(2, () => r.pick(["wheel", "sudo"])) } : {}),
      })),
    };
  }
  if (minor >= 3 && r.chance(0.15)) doc.kernel_arguments = { should_exist: r.list(2, () => r.pick(["quiet", "console=ttyS0"])), ...(r.chance(0.5) ? { should_not_exist: r.list(1, () => r.pick(["rhgb", "quiet"])) } : {}) };
  if (minor >= 2 && r.chance(0.15)) {
    storage.luks = r.list(1, () => ({
      name: r.pick(["data", "root"]),
      device: r.pick(DEVICES),
      ...(r.chance(0.5) ? { clevis: r.pick([{ tpm2: true }, { tang: [{ url: "http://127.0.0.1:8000", thumbprint: "abc" }] }]) } : {}),
      ...(r.chance(0.3) ? { key_file: { inline: "secret" } } : {}),
      ...(r.chance(0.2) ? { wipe_volume: true } : {}),
    }));
    doc.storage = storage;
  }
  if (minor >= 1 && r.chance(0.1)) doc.ignition = { config: { merge: [r.pick([{ inline: '{"ignition":{"version":"3.0.0"}}' }, { source: "http://127.0.0.1/c.ign" }, { inline: "x", source: "http://127.0.0.1/c.ign" }])] } };
  if (minor >= 1 && storage.files && r.chance(0.2)) {
    (storage.files as Obj[]).forEach((f) => {
      if (r.chance(0.5)) f.append = [{ inline: r.pick(["more\n", "x y"]) }];
      if (f.contents && (f.contents as Obj).source && r.chance(0.5)) (f.contents as Obj).http_headers = r.list(2, () => ({ name: r.pick(["X-A", ""]), value: r.pick(["1", ""]) }));
    });
  }
  if (variant === "fcos" && minor >= 4 && r.chance(0.15)) doc.grub = { users: r.list(2, () => ({ name: r.pick(["root", "admin", ""]), ...(r.chance(0.9) ? { password_hash: "grub.pbkdf2.sha512.10000.AB.CD" } : {}) })) };
  if (r.chance(0.15)) {
    const passwd = (doc.passwd ??= {}) as Obj;
    passwd.groups = r.list(2, () => ({ name: r.pick(["ops", "dev", "ops"]), ...(r.chance(0.4) ? { gid: r.pick([1001, 1002]) } : {}) }));
  }
  if (r.chance(0.1)) doc[r.pick(["colour", "Storage"])] = { x: 1 };
  let head = `variant: ${variant}\nversion: ${version}\n`;
  const style = r.int(0, 9);
  if (style === 0) head = `"variant": ${variant}\n'version': "${version}"\n`;
  if (style === 1) head = `base: &base\n  variant: ${variant}\n  version: ${version}\n<<: *base\n`;
  const body = Object.keys(doc).length ? toYaml(r, doc, "").replace(/^\n/, "") : "";
  if (style === 2 && body === "") return { text: `{variant: ${variant}, version: ${version}}\n`, variant, minor };
  return { text: head + body, variant, minor };
}

// ---------------------------------------------------------------------------
// Running the references and Flint.

interface Verdict {
  ok: boolean;
  /** Flint's error messages (path: message), for the kept differences. */
  messages?: string[];
  /** Fields warned about, as dotted paths. */
  warnings: string[];
  errors: string[];
  /** The output's meaning, normalized (when accepted and comparable). */
  output?: unknown;
  detail: string;
}

/** `warning at $.a.b, line 3 col 1: message` → "a.b", leaving out the warnings kept apart (KEPT_WARNINGS) */
const pathsOf = (stderr: string, kind: string) =>
  [...new Set([...stderr.matchAll(new RegExp(`^${kind} at \\$\\.?([^,]*),[^:]*: (.*)$`, "gm"))].filter((m) => !keptWarning(m[2]!)).map((m) => flintsPath(m[1]!, m[2]!)))].sort();

/** Ignition warns about a hard link's owner at user.id, user.name, group.id and group.name; Flint once at user or group (validate/nodes.ts). */
const flintsPath = (path: string, message: string) => (/user\/group ignored for hard link/.test(message) ? path.replace(/\.(id|name)$/, "") : path);

function runButane(dir: string, text: string): Verdict {
  const file = join(dir, "c.bu");
  writeFileSync(file, text);
  const r = spawnSync(join(ANCHORS!, "butane-v0.19.0/butane"), [file], { encoding: "utf8" });
  return { ok: r.status === 0, warnings: pathsOf(r.stderr, "warning"), errors: pathsOf(r.stderr, "error"), ...(r.status === 0 ? { output: normalizeIgnition(JSON.parse(r.stdout)) } : {}), detail: r.stderr.trim().split("\n").slice(0, 4).join(" | ") };
}

function runIgnition(dir: string, text: string, withOutput: boolean): Verdict {
  const file = join(dir, "c.ign");
  writeFileSync(file, text);
  const bin = join(ANCHORS!, "ignition-v2.17.0");
  const v = spawnSync(join(bin, "ignition-validate"), [file], { encoding: "utf8" });
  const out = v.stdout + v.stderr;
  const verdict: Verdict = { ok: v.status === 0, warnings: pathsOf(out, "warning"), errors: pathsOf(out, "error"), detail: out.trim().split("\n").slice(0, 4).join(" | ") };
  if (!verdict.ok || !withOutput) return verdict;
  // fetch-offline caches the config it parsed: Ignition's reading of it, as JSON.
  const run = join(dir, "run");
  rmSync(run, { recursive: true, force: true });
  mkdirSync(join(run, "sysconfig"), { recursive: true });
  const env = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", IGNITION_CONFIG_FILE: file, IGNITION_SYSTEM_CONFIG_DIR: join(run, "sysconfig") };
  const args = ["-platform", "file", "-stage", "fetch-offline", "-root", join(run, "root"), "-config-cache", join(run, "cache.json"), "-state-file", join(run, "state"), "-neednet", join(run, "neednet"), "-log-to-stdout"];
  const f = spawnSync(join(bin, "ignition"), args, { encoding: "utf8", env });
  if (f.status === 0 && existsSync(join(run, "cache.json"))) verdict.output = meaning(JSON.parse(readFileSync(join(run, "cache.json"), "utf8")));
  return verdict;
}

function runFlint(text: string, butane: boolean): Verdict {
  try {
    const parsed = parseConfig(text, {});
    const output = butane ? normalizeIgnition(parsed.butane!.ignition) : meaning(JSON.parse(JSON.stringify(parsed.config)));
    return { ok: true, warnings: flintPaths(parsed.warnings), errors: [], output, detail: parsed.warnings.map((w) => `${w.path.join(".")}: ${w.message}`).join(" | ") };
  } catch (e) {
    if (!(e instanceof ConfigInvalidError)) throw e;
    return { ok: false, warnings: flintPaths(e.warnings), errors: flintPaths(e.errors), messages: e.errors.map((i) => `${i.path.join(".")}: ${i.message}`), detail: e.errors.map((i) => `${i.path.join(".")}: ${i.message}`).slice(0, 4).join(" | ") };
  } finally {
    forgetSecrets();
  }
}

const flintPaths = (issues: ConfigIssue[]) => [...new Set(issues.filter((i) => i.severity === "error" || !keptWarning(i.message)).map((i) => i.path.join(".")))].sort();

/** What a parsed config means: no version, no empty objects or lists and no partition number 0 (Go's omitempty), an empty source is empty contents. */
function meaning(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => meaning(v, key));
  if (typeof value !== "object" || value === null) return key === "source" && value === "" ? "data:," : value;
  const out: Obj = {};
  for (const k of Object.keys(value).sort()) {
    if (k === "version" || (key === "partitions" && k === "number" && (value as Obj)[k] === 0)) continue;
    const v = meaning((value as Obj)[k], k);
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && !Array.isArray(v) && Object.keys(v as Obj).length === 0)) continue;
    out[k] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Differences kept on purpose (docs/configs.md lists them with the reasons).
// Each says whether a config falls in it; a disagreement on such a config is
// not counted.

interface Kept {
  what: string;
  /** Flint refuses, the reference accepts, and each of Flint's errors is one of these. */
  flintRefuses: RegExp;
}

const KEPT: Kept[] = [
  // Ignition accepts these, then fails when useradd/groupadd runs, with part of the root written.
  { what: "an empty user or group name, a uid or gid out of range", flintRefuses: /\.name: name must not be empty|: (uid|gid) must be between 0 and 4294967294/ },
  // Ignition accepts these, then fails when the tool or the system call runs.
  { what: "a link without a target (specs 3.0-3.2)", flintRefuses: /\.target: target is required$/ },
  { what: 'a password hash with ":"', flintRefuses: /\.passwordHash: password hash must not contain ":"/ },
  { what: 'a RAID or LUKS name with "/" (mdadm and cryptsetup refuse it)', flintRefuses: /\.name: (RAID|LUKS) name must not contain "\/"/ },
  { what: "a partition number over 128, a negative number, size or start (sgdisk refuses them)", flintRefuses: /partitions\.\d+\.(number|sizeMiB|startMiB): (partition number must be at most 128|.*must not be negative)/ },
  // Ignition takes a negative timeout for no limit.
  { what: "a negative HTTP timeout", flintRefuses: /\.timeouts\.\w+: \w+ must not be negative/ },
];

/**
 * Warnings compared apart: setuid, setgid and sticky bits are warned about
 * and masked off before spec 3.6 as Ignition 2.26 does (issue 26), where
 * Ignition 2.17 warns before 3.4 only and applies them in 3.4; outputs are
 * compared with modes masked to 0777 (maskModes). And Flint's own doubts
 * about values Ignition accepts (issue 26: warned about, never refused).
 */
const KEPT_WARNINGS = [
  /setuid, setgid and sticky bits are applied only from spec 3\.6\.0/,
  /setuid\/setgid\/sticky bits are not supported in spec versions older than 3\.4\.0/,
  // Flint's own doubts where Ignition accepts and the tool or systemd fails later (issue 26): warnings, not errors.
  /spare\(s\) leave no active member/,
  /not a valid \w+ uuid/,
  /hash value is not hexadecimal/,
  /has characters systemd does not allow/,
  /comes before any \[Section\] header/,
  /are both mounted at/,
];
const keptWarning = (message: string) => KEPT_WARNINGS.some((p) => p.test(message));

function maskModes(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) return value.map((v) => maskModes(v));
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskModes(v, k)]));
  return key === "mode" && typeof value === "number" ? value & 0o777 : value;
}

/** Flint refuses where the reference accepts only for reasons kept on purpose. */
const keptRefusal = (ref: Verdict, flint: Verdict) => ref.ok && !flint.ok && flint.messages!.every((m) => KEPT.some((k) => k.flintRefuses.test(m)));

interface Mismatch {
  kind: string;
  text: string;
  ref: Verdict;
  flint: Verdict;
  why: string;
}

/** How many configs the reference accepted, and with warnings: the test's reach, printed with the results. */
const reach = { accepted: 0, warned: 0, outputs: 0 };

function compare(kind: string, text: string, ref: Verdict, flint: Verdict, strictToo: boolean): Mismatch | undefined {
  if (ref.ok) reach.accepted++;
  if (ref.ok && ref.warnings.length) reach.warned++;
  if (ref.output !== undefined) reach.outputs++;
  const why: string[] = [];
  if (ref.ok !== flint.ok) why.push(`accepted: reference ${ref.ok}, flint ${flint.ok}`);
  // A refused config: the references stop at their first failing phase, so only the verdict counts.
  else if (ref.ok) {
    if (JSON.stringify(ref.warnings) !== JSON.stringify(flint.warnings)) why.push(`warnings: reference ${JSON.stringify(ref.warnings)}, flint ${JSON.stringify(flint.warnings)}`);
    if (strictToo && ref.ok && (ref.warnings.length === 0) !== (flint.warnings.length === 0)) why.push("accepted with --strict differs");
    if (ref.ok && ref.output !== undefined && flint.output !== undefined && JSON.stringify(maskModes(ref.output)) !== JSON.stringify(maskModes(flint.output))) why.push(`output: reference ${JSON.stringify(ref.output)}\n        flint     ${JSON.stringify(flint.output)}`);
  }
  if (why.length === 0 || keptRefusal(ref, flint)) return undefined;
  return { kind, text, ref, flint, why: why.join("; ") };
}

function report(mismatches: Mismatch[], kind: string): string {
  if (process.env.FLINT_DIFF_DUMP) writeFileSync(`${process.env.FLINT_DIFF_DUMP}.${kind}.json`, JSON.stringify(mismatches, null, 1));
  return mismatches
    .slice(0, Number(process.env.FLINT_DIFF_SHOW ?? 8))
    .map((m) => `--- ${m.kind}: ${m.why}\n    reference: ${m.ref.detail}\n    flint:     ${m.flint.detail}\n${m.text.replace(/^/gm, "    | ")}`)
    .join("\n");
}

describe(`configs through the real Butane and Ignition and through Flint (seed ${SEED}, ${CASES} of each)`, function () {
  this.timeout(10 * 60 * 1000);
  let dir: string;
  before(function () {
    if (!ANCHORS) this.skip();
    dir = mkdtempSync(join(tmpdir(), `flint-diff-${process.pid}-`));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("Butane configs: same verdicts, warnings (also --strict) and Ignition JSON as Butane v0.19.0", () => {
    const r = new Rng(SEED);
    const mismatches: Mismatch[] = [];
    for (let i = 0; i < CASES; i++) {
      r.careful = r.chance(0.5);
      const { text } = butaneConfig(r);
      const m = compare(`butane #${i}`, text, runButane(dir, text), runFlint(text, true), true);
      if (m) mismatches.push(m);
    }
    console.log(`      Butane accepted ${reach.accepted} (${reach.warned} with warnings, ${reach.outputs} outputs compared) of ${CASES}`);
    assert.equal(mismatches.length, 0, `${mismatches.length} of ${CASES} Butane configs differ:\n${report(mismatches, "butane")}`);
  });

  it("Ignition configs: same verdicts and warnings as ignition-validate v2.17.0, and the config Ignition reads", () => {
    const r = new Rng(SEED + 1);
    Object.assign(reach, { accepted: 0, warned: 0, outputs: 0 });
    const mismatches: Mismatch[] = [];
    for (let i = 0; i < CASES; i++) {
      r.careful = r.chance(0.5);
      const minor = r.int(0, 4);
      const config = ignitionConfig(r, minor);
      const text = ignitionText(r, config);
      // A merged config is Ignition's fetch stage's business (compared as a verdict only).
      const ref = runIgnition(dir, text, !text.includes('"merge"'));
      const m = compare(`ignition 3.${minor} #${i}`, text, ref, runFlint(text, false), false);
      if (m) mismatches.push(m);
    }
    console.log(`      Ignition accepted ${reach.accepted} (${reach.warned} with warnings, ${reach.outputs} outputs compared) of ${CASES}`);
    assert.equal(mismatches.length, 0, `${mismatches.length} of ${CASES} Ignition configs differ:\n${report(mismatches, "ignition")}`);
  });
});
