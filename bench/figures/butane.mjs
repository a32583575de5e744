// Figure 7 — Butane: what YAML configs cost, and that JSON ones do not pay
// it. The YAML library is dist/flint-yaml.js, loaded only for a YAML config:
// its size, the time to load it alone, and `flint validate` on the demo
// config as Butane YAML (examples/demo.bu) beside the same config as
// Ignition JSON (examples/demo.ign), alternating in one loop.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { alternate, countInstructions, HAVE_VALGRIND, runOnce } from "../lib/measure.mjs";
import { fmtBytes, ratio, row } from "../lib/report.mjs";

export const title = "butane";

export async function measure(ctx) {
  const node = process.execPath;
  const yamlLib = join(ctx.repo, "dist/flint-yaml.js");
  const bytes = readFileSync(yamlLib);
  const bu = [ctx.flint, "validate", join(ctx.repo, "examples/demo.bu")];
  const ign = [ctx.flint, "validate", join(ctx.repo, "examples/demo.ign")];
  const load = ["-e", `require(${JSON.stringify(yamlLib)})`];
  const m = alternate(
    [
      { name: "bu", run: () => runOnce(node, bu, { rss: false }) },
      { name: "ign", run: () => runOnce(node, ign, { rss: false }) },
      { name: "load", run: () => runOnce(node, load, { rss: false }) },
      { name: "floor", run: () => runOnce(node, ["-e", "0"], { rss: false }) },
    ],
    ctx.startupRuns,
  );
  // The load alone, timed inside one process (spawn noise left out); median of the runs.
  const inside = [];
  for (let i = 0; i < ctx.startupRuns; i++) {
    const out = runOnce(node, ["-e", `const t=performance.now();require(${JSON.stringify(yamlLib)});console.log(performance.now()-t)`], { rss: false });
    inside.push(Number(out.stdout ?? NaN));
  }
  inside.sort((a, b) => a - b);
  const loadInsideMs = Math.round(inside[Math.floor(inside.length / 2)] * 10) / 10;
  const data = {
    loadInsideMs,
    yamlLibBytes: bytes.length,
    yamlLibGzipBytes: gzipSync(bytes, { level: 9 }).length,
    validateButaneMs: m.bu.ms,
    validateJsonMs: m.ign.ms,
    loadYamlLibMs: m.load.ms,
    nodeFloorMs: m.floor.ms,
    ratio: ratio(m.bu.ms, m.ign.ms),
  };
  const rows = [
    row("7", "dist/flint-yaml.js raw / gzip -9 (loaded for YAML only)", { text: `${fmtBytes(data.yamlLibBytes)} / ${fmtBytes(data.yamlLibGzipBytes)}` }),
    row("7", "validate: demo.bu (Butane) vs demo.ign (JSON)", { ms: m.bu.ms }, { ms: m.ign.ms }),
    row("7", "require flint-yaml.js vs node -e 0", { ms: m.load.ms }, { ms: m.floor.ms }),
    row("7", "require flint-yaml.js, timed inside the process", Number.isFinite(loadInsideMs) ? { ms: loadInsideMs } : { na: "no timing printed" }),
  ];
  // Instructions barely move with the machine's load, where wall time does.
  if (ctx.callgrindRuns > 0 && HAVE_VALGRIND) {
    const c = alternate(
      [
        { name: "bu", run: () => countInstructions(node, bu) },
        { name: "ign", run: () => countInstructions(node, ign) },
      ],
      ctx.callgrindRuns,
    );
    data.instructions = { butane: c.bu.instructions, json: c.ign.instructions, ratio: ratio(c.bu.instructions, c.ign.instructions) };
    const mega = (n) => ({ text: `${(n / 1e6).toFixed(1)} M instr.` });
    rows.push(row("7", "validate instructions: demo.bu vs demo.ign (callgrind)", mega(c.bu.instructions), mega(c.ign.instructions), null, data.instructions.ratio));
  }
  return { data, rows };
}
