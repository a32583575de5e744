// Figure 4 — the files stage: `flint apply --stages files` of a generated
// config (no users: an empty root has no /etc/passwd for useradd) into an
// empty temporary root, against the floor of writing the same tree with
// `tar -x` of an archive of what Flint wrote. Both sides write to fresh
// directories on the same filesystem and alternate in one loop; removing a
// tree between runs is not timed.

import { lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeConfig, generateConfig } from "../generate-config.mjs";
import { alternate, failureReason, NotAvailable, runOnce } from "../lib/measure.mjs";
import { ratio, row } from "../lib/report.mjs";

export const title = "files stage";

const RSS_CAP_KIB = 100 * 1024;

export async function measure(ctx) {
  const data = { sizes: [] };
  const rows = [];
  for (const n of ctx.filesSizes) {
    const entry = { n, contains: describeConfig(n, { users: false }) };
    data.sizes.push(entry);
    try {
      Object.assign(entry, measureSize(ctx, n));
      const targets = [];
      let ok = true;
      if (n === 10_000) {
        targets.push("≤ 2×");
        ok &&= entry.ratio <= 2;
      }
      if (n === 100_000) {
        targets.push("RSS ≤ 100 MiB");
        ok &&= entry.rssKiB <= RSS_CAP_KIB;
      }
      rows.push(
        row(
          "4",
          `files stage ${n.toLocaleString("en")} files vs tar -x (${entry.runs} run${entry.runs === 1 ? "" : "s"})`,
          { ms: entry.ms, kib: entry.rssKiB },
          { ms: entry.tarMs, kib: entry.tarRssKiB },
          targets.length ? { text: targets.join(", "), ok } : undefined,
        ),
      );
    } catch (e) {
      if (!(e instanceof NotAvailable)) throw e;
      entry.na = e.message;
      rows.push(row("4", `files stage ${n.toLocaleString("en")} files vs tar -x`, { na: e.message }));
    }
  }
  return { data, rows };
}

function measureSize(ctx, n) {
  const node = process.execPath;
  const config = join(ctx.tmp, `files-${n}.ign`);
  writeFileSync(config, JSON.stringify(generateConfig(n, { users: false })));
  const freshRoot = () => mkdtempSync(join(ctx.tmp, `root-${n}-`));
  const applyArgs = (root) => [ctx.flint, "apply", "--config", config, "--root", root, "--stages", "files"];

  // A first run whose tree becomes the tar archive, after checking it holds what the config asks for.
  const probeRoot = freshRoot();
  const archive = join(ctx.tmp, `files-${n}.tar`);
  let probe;
  try {
    probe = runOnce(node, applyArgs(probeRoot));
    if (probe.code !== 0) throw new NotAvailable(`flint apply: ${failureReason(probe)}`);
    const counted = countTree(join(probeRoot, "bench"));
    const expected = describeConfig(n, { users: false });
    if (counted.files !== expected.files || counted.links !== expected.links) {
      throw new NotAvailable(`Flint wrote ${counted.files}/${expected.files} files and ${counted.links}/${expected.links} links`);
    }
    const tar = runOnce("tar", ["-cf", archive, "-C", probeRoot, "."], { rss: false });
    if (tar.code !== 0) throw new NotAvailable(`tar -c: ${failureReason(tar)}`);
  } finally {
    rmSync(probeRoot, { recursive: true, force: true });
  }

  // Big trees take minutes to write: there the first run is the one measured
  // (BENCH_BIG_RUNS=1 by default), with one tar -x beside it.
  const big = n >= 100_000;
  const runs = big ? Math.min(ctx.runs, ctx.bigRuns) : ctx.runs;
  const roots = {};
  const side = (name, args) => ({
    name,
    prepare: (i) => (roots[`${name}${i}`] = freshRoot()),
    run: (i) => runOnce(args[0], args[1](roots[`${name}${i}`])),
    cleanup: (i) => rmSync(roots[`${name}${i}`], { recursive: true, force: true }),
  });
  try {
    const contenders = [side("tar", ["tar", (root) => ["-xf", archive, "-C", root]])];
    if (!(big && runs === 1)) contenders.unshift(side("flint", [node, applyArgs]));
    const m = alternate(contenders, runs, { warmup: !big });
    const flint = m.flint ?? { ms: probe.ms, rssKiB: probe.rssKiB, msAll: [probe.ms] };
    return {
      runs,
      ms: flint.ms,
      rssKiB: flint.rssKiB,
      tarMs: m.tar.ms,
      tarRssKiB: m.tar.rssKiB,
      ratio: ratio(flint.ms, m.tar.ms),
      msAll: flint.msAll,
      tarMsAll: m.tar.msAll,
    };
  } finally {
    rmSync(archive, { force: true });
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
