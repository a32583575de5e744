// Figure 1 — start-up: `node dist/flint.js --version` against `node -e 0`,
// the floor no Node program can beat. Wall time is taken from runs without
// GNU time in between (a few ms matter here); peak RSS from separate runs
// under it, all four kinds of run alternating in one loop.
// The same pair is also counted in instructions under callgrind (when
// valgrind is installed): a figure that a busy machine hardly moves.
// A second pair puts a real command (`flint cmdline --cmdline-file F`, which
// loads a command module and parses) beside the same floor.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { alternate, countInstructions, HAVE_VALGRIND, NotAvailable, runOnce } from "../lib/measure.mjs";
import { ratio, row } from "../lib/report.mjs";

export const title = "start-up";

export async function measure(ctx) {
  const runs = ctx.startupRuns;
  const node = process.execPath;
  const cmdlineFile = join(ctx.tmp, "cmdline");
  writeFileSync(cmdlineFile, "BOOT_IMAGE=/vmlinuz root=LABEL=ROOT flatcar.first_boot=detected flatcar.oem.id=qemu console=ttyS0\n");

  const flintArgs = [ctx.flint, "--version"];
  const floorArgs = ["-e", "0"];
  const cmdArgs = [ctx.flint, "cmdline", "--cmdline-file", cmdlineFile];
  const m = alternate(
    [
      { name: "flint", run: () => runOnce(node, flintArgs, { rss: false }) },
      { name: "floor", run: () => runOnce(node, floorArgs, { rss: false }) },
      { name: "flint-rss", run: () => runOnce(node, flintArgs) },
      { name: "floor-rss", run: () => runOnce(node, floorArgs) },
    ],
    runs,
  );
  const data = {
    runs,
    flintVersion: { ms: m.flint.ms, rssKiB: m["flint-rss"].rssKiB, msAll: m.flint.msAll },
    nodeFloor: { ms: m.floor.ms, rssKiB: m["floor-rss"].rssKiB, msAll: m.floor.msAll },
    wallRatio: ratio(m.flint.ms, m.floor.ms),
    rssRatio: ratio(m["flint-rss"].rssKiB, m["floor-rss"].rssKiB),
  };
  const rows = [
    row("1", "start-up wall: --version vs node -e 0", { ms: m.flint.ms }, { ms: m.floor.ms }, { max: 1.3 }),
    row("1", "start-up peak RSS: --version vs node -e 0", { kib: m["flint-rss"].rssKiB }, { kib: m["floor-rss"].rssKiB }),
  ];

  if (ctx.callgrindRuns > 0 && HAVE_VALGRIND) {
    const c = alternate(
      [
        { name: "flint", run: () => countInstructions(node, flintArgs) },
        { name: "floor", run: () => countInstructions(node, floorArgs) },
      ],
      ctx.callgrindRuns,
    );
    data.instructions = { flint: c.flint.instructions, floor: c.floor.instructions, ratio: ratio(c.flint.instructions, c.floor.instructions), runs: ctx.callgrindRuns };
    const mega = (n) => ({ text: `${(n / 1e6).toFixed(1)} M instr.` });
    rows.push(row("1", "start-up instructions (callgrind)", mega(c.flint.instructions), mega(c.floor.instructions), { max: 1.3 }, data.instructions.ratio));
  } else {
    data.instructions = { na: HAVE_VALGRIND ? "BENCH_CALLGRIND_RUNS=0" : "valgrind is not installed" };
  }

  try {
    const c = alternate(
      [
        { name: "cmd", run: () => runOnce(node, cmdArgs) },
        { name: "floor", run: () => runOnce(node, floorArgs) },
      ],
      runs,
    );
    data.cmdline = { ms: c.cmd.ms, rssKiB: c.cmd.rssKiB, floorMs: c.floor.ms, ratio: ratio(c.cmd.ms, c.floor.ms) };
    rows.push(row("1", "real command: flint cmdline vs node -e 0", { ms: c.cmd.ms, kib: c.cmd.rssKiB }, { ms: c.floor.ms, kib: c.floor.rssKiB }));
  } catch (e) {
    if (!(e instanceof NotAvailable)) throw e;
    data.cmdline = { na: e.message };
    rows.push(row("1", "real command: flint cmdline vs node -e 0", { na: e.message }));
  }
  return { data, rows };
}
