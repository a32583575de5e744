// Copies the last run's table and machine description (bench/results.json)
// into BENCHMARKS.md, between its `<!-- bench:begin -->` and
// `<!-- bench:end -->` markers; the prose around them is left alone.
//
// Usage: node bench/record.mjs [--shared "what else ran"]

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const results = JSON.parse(readFileSync(join(repo, "bench/results.json"), "utf8"));
const target = join(repo, "BENCHMARKS.md");
const sharedIndex = process.argv.indexOf("--shared");
const shared = sharedIndex > 0 ? process.argv[sharedIndex + 1] : null;

const { machine: m, settings: s } = results;
// Which run each figure in the table comes from: the latest run that took it.
const runs = [{ ...m, figures: null }, ...(m.laterRuns ?? [])];
const sourceOf = (figure) => runs.findLastIndex((r) => r.figures === null || r.figures.includes(figure));
const figureNames = Object.keys(results.figures);
const describeRun = (r, i) => {
  const figures = figureNames.filter((f) => sourceOf(f) === i);
  if (!figures.length) return null;
  const when = r.date.slice(0, 16).replace("T", " ");
  const tree = r.dirtyFiles ? `, plus ${r.dirtyFiles} uncommitted file${r.dirtyFiles === 1 ? "" : "s"} of work in progress` : "";
  return `- ${figures.join(", ")}: ${when} UTC, commit \`${r.commit}\`${tree}; load average ${r.loadAtStart.join(" / ")} at the start, ${(r.loadAtEnd ?? []).join(" / ")} at the end.`;
};
const lines = [
  `${m.flintVersion ?? "flint ?"} on ${m.cpuCount} × ${m.cpuModel} (\`nproc\` ${m.cpuCount}), ${m.memoryGiB} GiB memory, Linux ${m.kernel}, Node ${m.node}; temporary files on ${s.tmpFilesystem ?? "?"}.`,
  "",
  "Taken (figure: when, at which commit, load average over 1 / 5 / 15 minutes):",
  "",
  ...runs.map(describeRun).filter(Boolean),
  "",
  shared
    ? `**The machine was shared** while this ran: ${shared}. Wall times and their ratios are noisier than on a quiet machine; the instruction counts are not.`
    : "The machine was otherwise idle.",
  ...(s.removedEnv?.length
    ? [`The host sets ${s.removedEnv.join(", ")}; every measured command ran without it (Node parses that CA bundle at each start-up, some 40 ms, which a first boot does not pay).`, ""]
    : []),
  `Runs: median of ${s.runs} (start-up: ${s.startupRuns}; instruction counts: ${s.callgrindRuns}; 100,000 files: ${s.bigRuns}), after one untimed warm-up round, Flint and its floor alternating.`,
  "",
  results.table,
];
const text = readFileSync(target, "utf8");
const begin = "<!-- bench:begin -->";
const end = "<!-- bench:end -->";
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from === -1 || to < from) throw new Error(`BENCHMARKS.md has no ${begin} … ${end} section`);
writeFileSync(target, `${text.slice(0, from + begin.length)}\n${lines.join("\n")}\n${text.slice(to)}`);
process.stderr.write("BENCHMARKS.md updated\n");
