// `npm run bench`: runs dist/flint.js as a black box and prints a table of
// figures (the median of several runs each; Flint and its floor alternate in
// one invocation so their ratio holds on a noisy machine), then writes
// bench/results.json. A figure whose feature is missing prints
// "n/a (reason)" instead of failing. Figures are not tests: nothing here
// fails the run because a target is missed.
//
// Settings (environment):
//   BENCH_RUNS=5                 timed runs per measurement (after one warm-up)
//   BENCH_STARTUP_RUNS=3×RUNS    timed runs for the start-up figure (cheap, noisy)
//   BENCH_CALLGRIND_RUNS=3       start-up instruction counts under valgrind (0: skip)
//   BENCH_BIG_RUNS=1             runs at 100,000 files in the files stage (1: the
//                                first run is the measured one, no warm-up)
//   BENCH_ONLY=startup,fetch     run only these figures (startup, bundle, validate,
//                                files, fetch, boot, butane); the others are kept from the
//                                last bench/results.json
//   BENCH_VALIDATE_SIZES=100,1000,10000,100000
//   BENCH_FILES_SIZES=10,100,1000,10000,100000
//   BENCH_ANCHORS=../shared/anchors  the real Ignition for the files stage's Ignition column
//   BENCH_FETCH_MIB=100
//   BENCH_TMPDIR=$TMPDIR         where configs, roots and archives go (one filesystem)
//
// Afterwards `node bench/record.mjs` copies the table into BENCHMARKS.md.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, release, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { HAVE_GNU_TIME } from "./lib/measure.mjs";
import { formatTable, row } from "./lib/report.mjs";

const FIGURES = ["startup", "bundle", "validate", "files", "fetch", "boot", "butane"];

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const env = process.env;
const int = (name, fallback) => {
  const v = env[name] ? Number(env[name]) : fallback;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer (got ${JSON.stringify(env[name])})`);
  return v;
};
const list = (name, fallback) => (env[name] ? env[name].split(",").map((s) => s.trim()).filter(Boolean) : fallback);

// Every command measured here (Flint, node -e 0, Ignition, the floors) runs
// without NODE_EXTRA_CA_CERTS: a host that sets it (this one does, for its
// proxy) makes Node parse that bundle at every start-up, some 40 ms, which a
// first boot does not pay (flint-agent.service does not set it; Flint reads the
// system bundle on its first HTTPS request instead, agent/resource/http.ts).
const removedEnv = env.NODE_EXTRA_CA_CERTS !== undefined ? ["NODE_EXTRA_CA_CERTS"] : [];
delete env.NODE_EXTRA_CA_CERTS;

const runs = int("BENCH_RUNS", 5);
const only = list("BENCH_ONLY", FIGURES);
for (const f of only) if (!FIGURES.includes(f)) throw new Error(`BENCH_ONLY: unknown figure ${JSON.stringify(f)} (known: ${FIGURES.join(", ")})`);

const tmp = mkdtempSync(join(env.BENCH_TMPDIR || tmpdir(), "flint-bench-"));
const cleanup = () => rmSync(tmp, { recursive: true, force: true });
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

const ctx = {
  repo,
  flint: join(repo, "dist/flint.js"),
  tmp,
  runs,
  startupRuns: int("BENCH_STARTUP_RUNS", 3 * runs),
  bigRuns: int("BENCH_BIG_RUNS", 1),
  callgrindRuns: env.BENCH_CALLGRIND_RUNS === "0" ? 0 : int("BENCH_CALLGRIND_RUNS", 3),
  validateSizes: list("BENCH_VALIDATE_SIZES", ["100", "1000", "10000", "100000"]).map(Number),
  filesSizes: list("BENCH_FILES_SIZES", ["10", "100", "1000", "10000", "100000"]).map(Number),
  fetchMiB: int("BENCH_FETCH_MIB", 100),
};
if (!existsSync(ctx.flint)) throw new Error(`${ctx.flint} is missing: run npm run bench (it builds first) or node build.mjs`);

const machine = describeMachine();
process.stderr.write(
  `Flint benchmarks: ${runs} runs a figure (median), ${machine.cpuCount} × ${machine.cpuModel}, ` +
    `${machine.memoryGiB} GiB, node ${machine.node}, load ${machine.loadAtStart.join(" ")}\n`,
);
if (!HAVE_GNU_TIME) process.stderr.write("note: /usr/bin/time (Debian package time) is missing: no peak RSS figures\n");

const settings = { removedEnv, runs, startupRuns: ctx.startupRuns, callgrindRuns: ctx.callgrindRuns, bigRuns: ctx.bigRuns, validateSizes: ctx.validateSizes, filesSizes: ctx.filesSizes, fetchMiB: ctx.fetchMiB, tmpFilesystem: filesystemOf(tmp) };
const resultsFile = join(repo, "bench/results.json");
// With BENCH_ONLY, the other figures of the last run are kept (each says when it was taken).
const previous = only.length < FIGURES.length && existsSync(resultsFile) ? safe(() => JSON.parse(readFileSync(resultsFile, "utf8"))) : null;
const results = previous
  ? { ...previous, figures: previous.figures ?? {} }
  : { machine, settings, figures: {} };
for (const name of only) {
  const figure = await import(`./figures/${name}.mjs`);
  const started = Date.now();
  process.stderr.write(`… ${figure.title}\n`);
  try {
    const { data, rows } = await figure.measure(ctx);
    results.figures[name] = { ...data, measuredAt: new Date().toISOString(), rows };
  } catch (e) {
    // A harness fault in one figure must not hide the others.
    const message = e instanceof Error ? e.message : String(e);
    const rows = [row(FIGURES.indexOf(name) + 1 + "", `${figure.title}: harness error`, { na: message.split("\n")[0] })];
    results.figures[name] = { na: message, stack: e?.stack, measuredAt: new Date().toISOString(), rows };
  }
  process.stderr.write(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
machine.loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
if (previous) {
  const { date, loadAtStart, loadAtEnd, commit, dirtyFiles } = machine;
  results.machine.laterRuns = [...(previous.machine?.laterRuns ?? []), { figures: only, date, loadAtStart, loadAtEnd, commit, dirtyFiles }];
}

const table = formatTable(FIGURES.flatMap((name) => results.figures[name]?.rows ?? []));
process.stdout.write(`\n${table}\n\n`);
results.table = table;
writeFileSync(resultsFile, JSON.stringify(results, null, 2) + "\n");
process.stderr.write(`wrote bench/results.json\n`);

function describeMachine() {
  const cpuModel = (() => {
    try {
      return /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpus()[0]?.model;
    } catch {
      return cpus()[0]?.model;
    }
  })();
  return {
    date: new Date().toISOString(),
    cpuCount: cpus().length,
    cpuModel,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    kernel: release(),
    loadAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    flintVersion: safe(() => execFileSync(process.execPath, [join(repo, "dist/flint.js"), "--version"], { encoding: "utf8" }).trim()),
    commit: safe(() => execFileSync("git", ["-C", repo, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim()),
    // The bundle is built from the work tree, so uncommitted work is part of what was measured.
    dirtyFiles: safe(() => execFileSync("git", ["-C", repo, "status", "--porcelain", "--", "agent", "package.json", "build.mjs"], { encoding: "utf8" }).split("\n").filter(Boolean).length),
  };
}

function filesystemOf(path) {
  // df names ext4 as ext4 (stat -f says "ext2/ext3" for all three).
  return safe(() => execFileSync("df", ["--output=fstype", path], { encoding: "utf8" }).trim().split("\n").at(-1));
}

function safe(fn) {
  try {
    return fn();
  } catch {
    return null;
  }
}
