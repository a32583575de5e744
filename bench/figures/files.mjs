// Figure 4 — the files stage, whole process: `flint apply --stages files` of
// a generated config in the shape of issue 13 (N files, N/10 directories,
// N/10 links, N/50 enabled units, one user with an SSH key) into a fresh
// root holding only account files, against
//   - the real Ignition v2.17.0 when the anchors are there (its fetch-offline
//     and files stages on an identical root, the two Go processes timed
//     back to back, as ../shared/anchors/run-ignition.sh runs them), and
//   - the floor: `tar -x` of an archive of the tree Flint wrote.
// All sides write to fresh directories on one fresh ext4 filesystem on a
// loop device (when the bench runs as root; else under BENCH_TMPDIR) and
// alternate in one loop; making and removing roots is not timed. Timed runs
// go without GNU time in between (a few ms matter at 10 files); peak RSS is
// taken from a separate first run of each side under GNU time.
//
// The anchors are looked up in $BENCH_ANCHORS, else ../shared/anchors beside
// the repository; without them the Ignition column says n/a.

import { execFileSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeConfig, generateConfig } from "../generate-config.mjs";
import { findAnchor } from "../lib/anchors.mjs";
import { alternate, failureReason, NotAvailable, runOnce } from "../lib/measure.mjs";
import { ratio, row } from "../lib/report.mjs";

export const title = "files stage";

const RSS_CAP_KIB = 100 * 1024;
/** Issue 13's goals: Flint's time over Ignition's, whole process. */
const VS_IGNITION = { 10: 1.2, 1000: 0.8, 10_000: 0.6 };

export async function measure(ctx) {
  const ignition = findAnchor(ctx.repo, "ignition");
  const fs = freshFilesystem(ctx);
  const data = { sizes: [], ignition: ignition.path ?? null, ignitionNa: ignition.na ?? null, filesystem: fs.what };
  const rows = [];
  try {
    for (const n of ctx.filesSizes) {
      const entry = { n, contains: describeConfig(n, { shape: "boot" }) };
      data.sizes.push(entry);
      const label = `files stage ${n.toLocaleString("en")} files (${describeShort(entry.contains)})`;
      try {
        Object.assign(entry, measureSize(ctx, fs.dir, n, ignition));
        const targets = [];
        let ok = true;
        const goal = VS_IGNITION[n];
        if (goal !== undefined && entry.ignitionMs !== undefined) {
          targets.push(`≤ ${goal}× Ignition`);
          ok &&= entry.vsIgnition <= goal;
        }
        if (n === 100_000) {
          targets.push("RSS ≤ 100 MiB");
          ok &&= entry.rssKiB <= RSS_CAP_KIB;
        }
        rows.push(
          row(
            "4",
            `${label} vs tar -x (${entry.runs} run${entry.runs === 1 ? "" : "s"})`,
            { ms: entry.ms, kib: entry.rssKiB },
            { ms: entry.tarMs, kib: entry.tarRssKiB },
            targets.length ? { text: targets.join(", "), ok } : undefined,
            undefined,
            entry.ignitionMs !== undefined ? { ms: entry.ignitionMs, kib: entry.ignitionRssKiB } : { na: entry.ignitionNa ?? ignition.na },
          ),
        );
      } catch (e) {
        if (!(e instanceof NotAvailable)) throw e;
        entry.na = e.message;
        rows.push(row("4", label, { na: e.message }));
      }
    }
  } finally {
    fs.cleanup();
  }
  return { data, rows };
}

function describeShort(c) {
  return `${c.directories} dirs, ${c.links} links, ${c.units} units, ${c.users} user`;
}

/** A fresh ext4 on a loop device, mounted for this figure; else a directory under the bench's temporary one. */
function freshFilesystem(ctx) {
  // Ignition writes SSH keys as the user, who must get through every directory above the root.
  chmodSync(ctx.tmp, 0o755);
  const fallback = (why) => ({ dir: ctx.tmp, what: `${why}; under ${ctx.tmp}`, cleanup: () => undefined });
  if (process.getuid?.() !== 0) return fallback("not root: no loop device");
  const image = join(ctx.tmp, "files-fs.img");
  const mnt = mkdtempSync(join(ctx.tmp, "files-fs-"));
  let loop;
  try {
    // Sparse: room for the 100,000-file tree three times over (Flint, Ignition, tar).
    execFileSync("truncate", ["-s", "8G", image]);
    loop = execFileSync("losetup", ["-f", "--show", image], { encoding: "utf8" }).trim();
    execFileSync("mkfs.ext4", ["-q", "-F", "-N", "1000000", loop]);
    execFileSync("mount", [loop, mnt]);
    chmodSync(mnt, 0o755);
  } catch (e) {
    if (loop) execFileSync("losetup", ["-d", loop]);
    rmSync(image, { force: true });
    return fallback(`no fresh ext4 (${e.message.split("\n")[0]})`);
  }
  return {
    dir: mnt,
    what: "a fresh ext4 on a loop device",
    cleanup: () => {
      execFileSync("umount", [mnt]);
      execFileSync("losetup", ["-d", loop]);
      rmSync(image, { force: true });
      rmSync(mnt, { recursive: true, force: true });
    },
  };
}

const PASSWD = "root:x:0:0:root:/root:/bin/sh\n";
const GROUP = "root:x:0:\n";
const SHADOW = "root:*:19000:0:99999:7:::\n";
const GSHADOW = "root:*::\n";
const LOGIN_DEFS = "USERGROUPS_ENAB yes\nUID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\n";

/** A root with only what useradd needs (both agents add the config's user with it). */
function makeRoot(parent, name) {
  const root = mkdtempSync(join(parent, `${name}-`));
  // As a real root: Ignition writes SSH keys as the user, who must get through it.
  chmodSync(root, 0o755);
  mkdirSync(join(root, "etc"), { mode: 0o755 });
  mkdirSync(join(root, "home"), { mode: 0o755 });
  writeFileSync(join(root, "etc/passwd"), PASSWD, { mode: 0o644 });
  writeFileSync(join(root, "etc/group"), GROUP, { mode: 0o644 });
  writeFileSync(join(root, "etc/shadow"), SHADOW, { mode: 0o640 });
  writeFileSync(join(root, "etc/gshadow"), GSHADOW, { mode: 0o640 });
  writeFileSync(join(root, "etc/login.defs"), LOGIN_DEFS, { mode: 0o644 });
  return root;
}

function removeRoot(root) {
  rmSync(root, { recursive: true, force: true });
  rmSync(`${root}.ign`, { recursive: true, force: true });
}

/** Ignition's fetch-offline then files on `root`, as run-ignition.sh does it; one result for both processes. */
function runIgnition(binary, config, root, { rss }) {
  const state = `${root}.ign`;
  rmSync(state, { recursive: true, force: true });
  mkdirSync(join(state, "sysconfig"), { recursive: true });
  const env = { ...process.env, IGNITION_CONFIG_FILE: config, IGNITION_SYSTEM_CONFIG_DIR: join(state, "sysconfig"), PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
  const common = ["-platform", "file", "-root", root, "-config-cache", join(state, "ignition.json"), "-state-file", join(state, "state"), "-neednet", join(state, "neednet"), "-log-to-stdout"];
  const offline = runOnce(binary, [...common, "-stage", "fetch-offline"], { rss, env });
  if (offline.code !== 0) return offline;
  const files = runOnce(binary, [...common, "-stage", "files"], { rss, env });
  return { ...files, ms: offline.ms + files.ms, rssKiB: rss ? Math.max(offline.rssKiB ?? 0, files.rssKiB ?? 0) : null };
}

function measureSize(ctx, dir, n, ignition) {
  const node = process.execPath;
  const config = join(ctx.tmp, `files-${n}.ign`);
  writeFileSync(config, JSON.stringify(generateConfig(n, { shape: "boot" })));
  const expected = describeConfig(n, { shape: "boot" });
  const applyArgs = (root) => [ctx.flint, "apply", "--config", config, "--root", root, "--stages", "files"];
  const check = (who, root) => {
    const counted = countTree(join(root, "bench"));
    if (counted.files !== expected.files || counted.links !== expected.links) {
      throw new NotAvailable(`${who} wrote ${counted.files}/${expected.files} files and ${counted.links}/${expected.links} links`);
    }
  };

  // First runs, under GNU time (peak RSS), each checked; Flint's tree becomes the tar archive.
  const archive = join(ctx.tmp, `files-${n}.tar`);
  const probeRoot = makeRoot(dir, `probe-${n}`);
  let probe;
  try {
    probe = runOnce(node, applyArgs(probeRoot));
    if (probe.code !== 0) throw new NotAvailable(`flint apply: ${failureReason(probe)}`);
    check("Flint", probeRoot);
    const tar = runOnce("tar", ["-cf", archive, "-C", probeRoot, "."], { rss: false });
    if (tar.code !== 0) throw new NotAvailable(`tar -c: ${failureReason(tar)}`);
  } finally {
    removeRoot(probeRoot);
  }
  let ignitionProbe;
  let ignitionNa;
  if (ignition.path) {
    const root = makeRoot(dir, `ignition-probe-${n}`);
    try {
      ignitionProbe = runIgnition(ignition.path, config, root, { rss: true });
      if (ignitionProbe.code !== 0) {
        const critical = ignitionProbe.stdout.split("\n").find((l) => l.startsWith("CRITICAL"));
        ignitionNa = `Ignition: ${critical ? critical.slice(0, 160) : failureReason(ignitionProbe)}`;
      }
      else check("Ignition", root);
    } catch (e) {
      if (!(e instanceof NotAvailable)) throw e;
      ignitionNa = e.message;
    } finally {
      removeRoot(root);
    }
  }
  const tarProbeRoot = makeRoot(dir, `tar-probe-${n}`);
  const tarProbe = runOnce("tar", ["-xf", archive, "-C", tarProbeRoot]);
  removeRoot(tarProbeRoot);

  // Big trees take minutes to write: there the first runs are the ones measured
  // (BENCH_BIG_RUNS=1 by default).
  const big = n >= 100_000;
  const runs = big ? Math.min(ctx.runs, ctx.bigRuns) : ctx.runs;
  const roots = {};
  const side = (name, run) => ({
    name,
    prepare: (i) => (roots[`${name}${i}`] = makeRoot(dir, `${name}-${n}-${i}`)),
    run: (i) => run(roots[`${name}${i}`]),
    cleanup: (i) => removeRoot(roots[`${name}${i}`]),
  });
  try {
    let m = {};
    if (!(big && runs === 1)) {
      const contenders = [side("flint", (root) => runOnce(node, applyArgs(root), { rss: false }))];
      if (ignition.path && !ignitionNa) contenders.push(side("ignition", (root) => runIgnition(ignition.path, config, root, { rss: false })));
      contenders.push(side("tar", (root) => runOnce("tar", ["-xf", archive, "-C", root], { rss: false })));
      m = alternate(contenders, runs, { warmup: !big });
    }
    const flint = m.flint ?? { ms: probe.ms, msAll: [probe.ms] };
    const tar = m.tar ?? { ms: tarProbe.ms, msAll: [tarProbe.ms] };
    const ign = ignitionProbe && !ignitionNa ? (m.ignition ?? { ms: ignitionProbe.ms, msAll: [ignitionProbe.ms] }) : undefined;
    return {
      runs,
      ms: flint.ms,
      rssKiB: probe.rssKiB,
      tarMs: tar.ms,
      tarRssKiB: tarProbe.rssKiB,
      ratio: ratio(flint.ms, tar.ms),
      msAll: flint.msAll,
      tarMsAll: tar.msAll,
      ...(ign ? { ignitionMs: ign.ms, ignitionRssKiB: ignitionProbe.rssKiB, ignitionMsAll: ign.msAll, vsIgnition: ratio(flint.ms, ign.ms) } : {}),
      ...(ignitionNa ? { ignitionNa } : {}),
    };
  } finally {
    rmSync(archive, { force: true });
    rmSync(config, { force: true });
  }
}

/** Regular files and symlinks below `dir` (no following of links). */
function countTree(dir) {
  const counts = { files: 0, links: 0 };
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.isSymbolicLink()) counts.links++;
      else if (e.isFile()) counts.files++;
    }
  };
  if (lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) walk(dir);
  return counts;
}
