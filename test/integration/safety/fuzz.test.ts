// A fuzz test for issue 10: valid configs mutated (paths with "/", "..",
// long and unicode names; unit names; ids; labels; modes; password hashes;
// link targets; sources), each applied with the bundled `flint apply
// --stages files` to a fresh scratch root with a canary beside it. Whatever
// the mutation, the run exits 0, 1 or 2, prints no stack trace, changes
// nothing outside the root, and no secret value of the config (hash, file or
// unit contents, header value) appears in its output or its report. A
// second, shorter run mutates the storage section and applies it with
// `--stages disks` to a loop disk (named directly, by a symlink, or by its
// partition), with a second loop disk that must come out untouched.
// Fixed seed and count: a failure names the case, which replays alone with
// FLINT_FUZZ_CASE=N. FLINT_FUZZ_COUNT and FLINT_FUZZ_SEED widen a local run.

import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { makeTempRoot, snapshotTree } from "../../helpers/root";
import { routes, startHttpServer, type TestServer } from "../../helpers/servers/http";
import { buildBundle, FLINT } from "../../helpers/bundle";
import { prng } from "../../helpers/prng";

const SEED = Number(process.env.FLINT_FUZZ_SEED ?? 20261129);
const COUNT = Number(process.env.FLINT_FUZZ_COUNT ?? 50);
const DISK_COUNT = Number(process.env.FLINT_FUZZ_DISK_COUNT ?? 8);
const ONLY = process.env.FLINT_FUZZ_CASE === undefined ? undefined : Number(process.env.FLINT_FUZZ_CASE);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Case {
  config: Json;
  /** Values that must appear in no output: hashes, contents, header values. */
  secrets: string[];
  mutations: string[];
}

const PATHS = [
  "/",
  "/..",
  "/../canary/untouched",
  "/etc/../../canary/x",
  "/etc/./x",
  "//etc/x",
  "/etc/x/",
  "etc/relative",
  "",
  "/" + "n".repeat(300),
  "/" + "d/".repeat(2100) + "f",
  "/etc/ünïcødé/файл/😀",
  "/etc/new\nline",
  "/etc/tab\there",
  "/etc/passwd",
  "/etc/shadow",
  "/etc/.flint-result.json",
  "/etc/esc/canary/untouched",
  "/proc/self/x",
  "/dev/null",
];
const UNIT_NAMES = ["--root=.service", "-x.service", "-Hevil.service", "a b.service", "../x.service", "x/y.service", "n".repeat(300) + ".service", "é.service", "@.service", "foo@.service", "foo@bar@baz.service", "-.slice", ".service", "a.exe", "a\nb.service"];
const DROPIN_NAMES = ["../x.conf", ".conf", ".hidden.conf", "a/b.conf", "x".repeat(300) + ".conf", "ok.txt", "10-ok.conf"];
const IDS: Json[] = [-1, 0, 1000, 65534, 65535, 4294967294, 4294967295, 4294967296, 2 ** 53, 1.5, "1000", null];
const MODES: Json[] = [-1, 0, 0o644, 0o4755, 0o7777, 0o10000, 4095.5, "0644", null, 2 ** 32];
const HASHES = ["$6$abc:0:0:x", "$6$line\nbreak", "$6$bell\u0007x", "", "*", "!", "$y$j9T$" + "h".repeat(500), "-oGroot"];
const LABELS = ["", "x".repeat(300), "ünï", "a:b", "--label", "with space", "\u0000"];
const USER_NAMES = ["-oGroot", "root", "a:b", "x".repeat(100), "ünï", "", "core\n"];
const TARGETS = ["/", "../../..", "../../../canary/untouched", "/etc/passwd", "", "x".repeat(5000), "/etc/../../.."];

function baseConfig(rand: () => number, n: number, server: TestServer): Case {
  const secret = (what: string) => `FZ${what}-${n}-${Math.floor(rand() * 1e9).toString(36)}`;
  const fileSecret = secret("file");
  const unitSecret = secret("unit");
  const headerSecret = secret("header");
  const hash = `$6$${secret("salt")}$${secret("hash")}`;
  const config = {
    ignition: { version: "3.4.0" },
    storage: {
      directories: [{ path: "/var/lib/app", mode: 0o750 }],
      files: [
        { path: "/etc/motd", mode: 0o644, contents: { source: "data:,hello%0A" } },
        { path: "/etc/app/secret.conf", mode: 0o600, overwrite: true, contents: { source: `data:;base64,${Buffer.from(`token=${fileSecret}\n`).toString("base64")}` } },
        { path: "/etc/app/served", contents: { source: `${server.url}/served`, httpHeaders: [{ name: "Authorization", value: `Bearer ${headerSecret}` }] } },
      ],
      links: [
        { path: "/etc/localtime", target: "/usr/share/zoneinfo/UTC" },
        { path: "/etc/motd.hard", target: "/etc/motd", hard: true },
        { path: "/etc/esc", target: "../../.." },
      ],
      filesystems: [{ device: "/dev/disk/by-label/flint-fuzz-none", format: "ext4", label: "data" }],
    },
    systemd: { units: [{ name: "app.service", enabled: true, contents: `[Service]\nEnvironment=TOKEN=${unitSecret}\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n`, dropins: [{ name: "10-a.conf", contents: "[Service]\nNice=5\n" }] }] },
    passwd: { users: [{ name: "core", passwordHash: hash, uid: 1000, groups: ["wheel"] }], groups: [{ name: "ops", gid: 3000 }] },
  };
  return { config, secrets: [fileSecret, unitSecret, headerSecret, hash], mutations: [] };
}

const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

/** Each mutator changes one field of the config and names what it did. */
const MUTATORS: ((c: Case, rand: () => number) => string)[] = [
  (c, r) => {
    const f = pick(r, c.config.storage.files as Json[]);
    f.path = pick(r, PATHS);
    return `file path ${JSON.stringify(f.path).slice(0, 40)}`;
  },
  (c, r) => {
    const d = c.config.storage.directories[0];
    d.path = pick(r, PATHS);
    d.overwrite = r() < 0.5;
    return `directory path ${JSON.stringify(d.path).slice(0, 40)} overwrite=${d.overwrite}`;
  },
  (c, r) => {
    const l = pick(r, c.config.storage.links as Json[]);
    l.path = pick(r, PATHS);
    l.overwrite = r() < 0.5;
    return `link path ${JSON.stringify(l.path).slice(0, 40)} hard=${l.hard ?? false} overwrite=${l.overwrite}`;
  },
  (c, r) => {
    const l = pick(r, c.config.storage.links as Json[]);
    l.target = pick(r, TARGETS);
    return `link target ${JSON.stringify(l.target).slice(0, 40)} hard=${l.hard ?? false}`;
  },
  (c, r) => {
    const u = c.config.systemd.units[0];
    u.name = pick(r, UNIT_NAMES);
    return `unit name ${JSON.stringify(u.name).slice(0, 40)}`;
  },
  (c, r) => {
    const d = c.config.systemd.units[0].dropins[0];
    d.name = pick(r, DROPIN_NAMES);
    return `drop-in name ${JSON.stringify(d.name).slice(0, 40)}`;
  },
  (c, r) => {
    const u = c.config.passwd.users[0];
    u.uid = pick(r, IDS);
    return `uid ${JSON.stringify(u.uid)}`;
  },
  (c, r) => {
    const g = c.config.passwd.groups[0];
    g.gid = pick(r, IDS);
    return `gid ${JSON.stringify(g.gid)}`;
  },
  (c, r) => {
    const f = pick(r, [...c.config.storage.files, ...c.config.storage.directories] as Json[]);
    f.user = { id: pick(r, IDS) };
    f.group = { id: pick(r, IDS) };
    return `owner ${JSON.stringify(f.user.id)}:${JSON.stringify(f.group.id)} of ${f.path}`;
  },
  (c, r) => {
    const f = pick(r, [...c.config.storage.files, ...c.config.storage.directories] as Json[]);
    f.mode = pick(r, MODES);
    return `mode ${JSON.stringify(f.mode)} of ${f.path}`;
  },
  (c, r) => {
    const hash = pick(r, HASHES);
    const target = r() < 0.7 ? c.config.passwd.users[0] : c.config.passwd.groups[0];
    target.passwordHash = hash;
    if (hash.length >= 4) c.secrets.push(hash);
    return `password hash ${JSON.stringify(hash).slice(0, 30)}`;
  },
  (c, r) => {
    const label = pick(r, LABELS);
    c.config.storage.filesystems[0].label = label;
    return `filesystem label ${JSON.stringify(label).slice(0, 30)}`;
  },
  (c, r) => {
    const name = pick(r, USER_NAMES);
    c.config.passwd.users[0].name = name;
    return `user name ${JSON.stringify(name).slice(0, 30)}`;
  },
  (c, r) => {
    // A broken data URL still holds the secret: no message may quote it.
    const f = c.config.storage.files[1];
    const secret = `FZbadurl-${Math.floor(r() * 1e9).toString(36)}`;
    f.contents.source = pick(r, [`data:,${secret}%zz`, `data:;base64,${secret}!!!`, `data:${secret}`]);
    c.secrets.push(secret);
    return `bad data URL ${f.contents.source}`;
  },
  (c, r) => {
    const f = c.config.storage.files[1];
    f.append = [{ source: `data:,${encodeURIComponent(c.secrets[0]!)}` }];
    f.path = pick(r, [f.path, ...PATHS]);
    return `append to ${JSON.stringify(f.path).slice(0, 40)}`;
  },
  (c, r) => {
    c.config.storage.files[2].contents.source = pick(r, [`${c.config.storage.files[2].contents.source}/missing`, "http://127.0.0.1:1/refused", "tftp://127.0.0.1:1/x"]);
    // Sources are retried until httpTotal, forever by default, as in Ignition.
    c.config.ignition.timeouts = { httpTotal: 2 };
    return `unreachable source ${c.config.storage.files[2].contents.source}`;
  },
  (c, r) => {
    c.config.passwd.users[0].homeDir = pick(r, [...PATHS, "relative/home"]);
    return `home ${JSON.stringify(c.config.passwd.users[0].homeDir).slice(0, 40)}`;
  },
];

function makeCase(n: number, server: TestServer): Case {
  const rand = prng(SEED + n * 7919);
  const c = baseConfig(rand, n, server);
  const count = 1 + Math.floor(rand() * 3);
  for (let i = 0; i < count; i++) c.mutations.push(pick(rand, MUTATORS)(c, rand));
  return c;
}

function flint(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLINT, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stderr.on("data", (d: Buffer) => chunks.push(d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out: Buffer.concat(chunks).toString("utf8") });
    });
  });
}

describe("safety: fuzzed configs applied to a scratch root", function () {
  this.timeout(60_000 + COUNT * 3000);
  let server: TestServer;
  let configDir: string;

  before(async () => {
    buildBundle();
    server = await startHttpServer(routes({ "/served": "served contents\n" }));
    configDir = mkdtempSync(join(tmpdir(), "flint-safety-tools-fuzz-"));
  });
  after(async () => {
    await server?.close();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it(`keeps every promise for ${ONLY === undefined ? COUNT : 1} mutated config(s) (seed ${SEED})`, async () => {
    const exits = new Map<number | null, number>();
    for (let n = ONLY ?? 0; n < (ONLY === undefined ? COUNT : ONLY + 1); n++) {
      const c = makeCase(n, server);
      const t = makeTempRoot("flint-safety-tools-fuzz-root-");
      const outside = () => snapshotTree(t.dir, { ignore: (rel) => rel === "root" || rel.startsWith("root/") });
      try {
        const before = outside();
        const config = join(configDir, `case-${n}.json`);
        writeFileSync(config, JSON.stringify(c.config));
        const r = await flint(["--log-level", "debug", "apply", "--config", config, "--root", t.root, "--stages", "files"]);
        const label = `case ${n} (FLINT_FUZZ_CASE=${n}): ${c.mutations.join("; ")}\n--- output ---\n${r.out.length > 4000 ? `${r.out.slice(0, 1000)}\n…\n${r.out.slice(-3000)}` : r.out}`;
        exits.set(r.code, (exits.get(r.code) ?? 0) + 1);
        assert.ok(r.code === 0 || r.code === 1 || r.code === 2, `exit ${r.code}: ${label}`);
        assert.doesNotMatch(r.out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace: ${label}`);
        assert.doesNotMatch(r.out, /\b(TypeError|RangeError|ReferenceError|SyntaxError|Cannot read propert|is not a function|undefined is not)\b/, `an internal error: ${label}`);
        assert.deepEqual(outside(), before, `something outside the root changed: ${label}`);
        assert.deepEqual(snapshotTree(t.canary), t.canaryBefore, `the canary changed: ${label}`);
        const reportPath = join(t.root, "etc/.flint-result.json");
        const report = existsSync(reportPath) && statSync(reportPath).isFile() ? readFileSync(reportPath, "utf8") : "";
        if (report) assert.equal(statSync(reportPath).mode & 0o777, 0o600, `report mode: ${label}`);
        for (const secret of c.secrets) {
          assert.ok(!r.out.includes(secret), `secret ${JSON.stringify(secret.slice(0, 20))} in the output: ${label}`);
          assert.ok(!report.includes(secret), `secret ${JSON.stringify(secret.slice(0, 20))} in the report: ${label}`);
        }
      } finally {
        // rm(1), not rmSync: a mutated path may have left a tree deeper than Node's recursive removal goes.
        spawnSync("rm", ["-rf", "--", t.dir]);
      }
    }
    // Both outcomes must occur, or the mutations test nothing (or the base config is broken).
    if (ONLY === undefined) {
      assert.ok((exits.get(0) ?? 0) > 0, `no case succeeded: ${JSON.stringify([...exits])}`);
      assert.ok((exits.get(1) ?? 0) > 0, `no case failed: ${JSON.stringify([...exits])}`);
    }
  });
});

const FORMATS: Json[] = ["ext4", "vfat", "swap", "none", "xfs", "btrfs", "ntfs", "", null];
const PART_LABELS = ["data", "a:b", "x".repeat(37), "", "ünï", "--label"];
const SIZES: Json[] = [0, 1, 8, -1, 1e9, 1.5, null];
const NUMBERS: Json[] = [0, 1, 2, 128, 129, -1];

/** One storage section on `disk`, mutated; `alias` is a symlink to the disk beside the root. */
function diskCase(n: number, disk: LoopDisk, alias: string): { storage: Json; mutations: string[] } {
  const rand = prng(SEED + 104729 + n * 7919);
  const storage: Json = {
    disks: [{ device: disk.device, wipeTable: true, partitions: [{ label: "data", number: 1, sizeMiB: 8 }] }],
    filesystems: [{ device: disk.partition(1), format: "ext4", label: "data", wipeFilesystem: true }],
  };
  const mutators: ((r: () => number) => string)[] = [
    (r) => (storage.filesystems[0].device = pick(r, [disk.device, alias, disk.partition(2), "/dev/null", "relative", "/dev/flint-fuzz-none"])),
    (r) => JSON.stringify((storage.filesystems[0].format = pick(r, FORMATS))),
    (r) => JSON.stringify((storage.filesystems[0].label = pick(r, LABELS))),
    (r) => JSON.stringify((storage.filesystems[0].uuid = pick(r, ["not-a-uuid", "4a2d2d2a-1111-2222-3333-444455556666", "1234-ABCD", ""]))),
    (r) => JSON.stringify((storage.disks[0].partitions[0].label = pick(r, PART_LABELS))),
    (r) => JSON.stringify((storage.disks[0].partitions[0].sizeMiB = pick(r, SIZES))),
    (r) => JSON.stringify((storage.disks[0].partitions[0].number = pick(r, NUMBERS))),
    (r) => (storage.disks[0].device = pick(r, [alias, disk.partition(1), "/dev/null"])),
    (r) => {
      storage.disks.push({ device: pick(r, [alias, disk.device]), partitions: [] });
      return "the disk again";
    },
  ];
  const mutations: string[] = [];
  const count = 1 + Math.floor(rand() * 2);
  for (let i = 0; i < count; i++) {
    const k = Math.floor(rand() * mutators.length);
    mutations.push(`#${k} ${mutators[k]!(rand)}`);
  }
  return { storage, mutations };
}

describe("safety: fuzzed storage applied to a loop disk", function () {
  this.timeout(60_000 + DISK_COUNT * 10_000);
  let disk: LoopDisk;
  let bystander: LoopDisk;
  let configDir: string;

  before(() => {
    buildBundle();
    disk = createLoopDisk(48, "flint-safety-tools-fuzz-disk-");
    bystander = createLoopDisk(8, "flint-safety-tools-fuzz-disk-");
    sh("mkfs.ext4", ["-q", "-F", "-L", "bystander", bystander.device]);
    configDir = mkdtempSync(join(tmpdir(), "flint-safety-tools-fuzz-"));
  });
  after(() => {
    disk?.destroy();
    bystander?.destroy();
    if (configDir) rmSync(configDir, { recursive: true, force: true });
  });

  it(`keeps every promise for ${ONLY === undefined ? DISK_COUNT : 1} mutated storage section(s) (seed ${SEED})`, async () => {
    const bystanderImage = () => sh("sha256sum", [bystander.image]).split(" ")[0];
    const untouched = bystanderImage();
    for (let n = ONLY ?? 0; n < (ONLY === undefined ? DISK_COUNT : ONLY + 1); n++) {
      // A blank disk each time: no table, no signatures, no partition nodes.
      sh("wipefs", ["-a", "-q", disk.device]);
      sh("sgdisk", ["--zap-all", disk.device]);
      disk.rescan();
      const t = makeTempRoot("flint-safety-tools-fuzz-root-");
      const alias = join(t.dir, "alias");
      symlinkSync(disk.device, alias);
      const outside = () => snapshotTree(t.dir, { ignore: (rel) => rel === "root" || rel.startsWith("root/") });
      try {
        const { storage, mutations } = diskCase(n, disk, alias);
        const before = outside();
        const config = join(configDir, `disk-case-${n}.json`);
        writeFileSync(config, JSON.stringify({ ignition: { version: "3.4.0" }, storage }));
        const r = await flint(["--log-level", "debug", "apply", "--config", config, "--root", t.root, "--stages", "disks"], { FLINT_DEVICE_TIMEOUT: "2" });
        const label = `disk case ${n} (FLINT_FUZZ_CASE=${n}): ${mutations.join("; ")}\n--- output ---\n${r.out.slice(-3000)}`;
        assert.ok(r.code === 0 || r.code === 1 || r.code === 2, `exit ${r.code}: ${label}`);
        assert.doesNotMatch(r.out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace: ${label}`);
        assert.doesNotMatch(r.out, /\b(TypeError|RangeError|ReferenceError|SyntaxError|Cannot read propert|is not a function|undefined is not)\b/, `an internal error: ${label}`);
        assert.deepEqual(outside(), before, `something outside the root changed: ${label}`);
        assert.deepEqual(snapshotTree(t.canary), t.canaryBefore, `the canary changed: ${label}`);
        assert.equal(bystanderImage(), untouched, `the other loop disk changed: ${label}`);
      } finally {
        spawnSync("rm", ["-rf", "--", t.dir]);
      }
    }
  });
});
