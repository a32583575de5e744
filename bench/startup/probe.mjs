// The start-up investigation behind docs/performance.md (not part of
// `npm run bench`): where the time between `node -e 0` and
// `node dist/flint.js --version` goes, and whether a V8 code cache or a
// startup snapshot would win it back. All variants alternate in one loop.
//
// Wall time by default; PROBE_CALLGRIND=1 counts instructions instead (slow,
// but steady on a busy machine). PROBE_EMULATE=1 runs every variant under
// qemu-user (`qemu-x86_64`, Debian package qemu-user): the same TCG code
// translation that a QEMU boot without KVM pays, where Node starts ~20× slower;
// the figure is then CPU time, which waiting for a busy machine does not inflate.
//
// Usage: node bench/startup/probe.mjs [BUNDLE]   (default dist/flint.js; PROBE_RUNS=31)

import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { alternate, countInstructions, runOnce } from "../lib/measure.mjs";
import { fmtMs } from "../lib/report.mjs";
import { buildSnapshot } from "./snapshot.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const callgrind = process.env.PROBE_CALLGRIND === "1";
const emulate = process.env.PROBE_EMULATE === "1";
const runs = Number(process.env.PROBE_RUNS ?? (callgrind || emulate ? 5 : 31));
const node = process.execPath;
/** How every variant, the code cache and the snapshot are run (they must match: V8 checks CPU features). */
const launcher = callgrind ? ["valgrind", "--tool=none", "-q"] : emulate ? ["qemu-x86_64"] : [];
const launch = (cmd, args, options) => (emulate ? runOnce("qemu-x86_64", [cmd, ...args], options) : runOnce(cmd, args, options));
const tmp = mkdtempSync(join(tmpdir(), "flint-startup-probe-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

// Work on a copy so the code cache file never lands in dist/.
const bundle = join(tmp, "flint.js");
copyFileSync(resolve(process.argv[2] ?? join(here, "../../dist/flint.js")), bundle);
const empty = join(tmp, "empty.js");
writeFileSync(empty, "");
const cmdlineFile = join(tmp, "cmdline");
writeFileSync(cmdlineFile, "root=LABEL=ROOT flatcar.first_boot=detected flatcar.oem.id=qemu\n");
const loader = join(here, "code-cache-loader.cjs");

// Make the code cache from a real command, so the functions it compiles are in it.
const made = (callgrind ? (c, a, o) => runOnce("valgrind", ["--tool=none", "-q", c, ...a], o) : launch)(node, [loader, bundle, "cmdline", "--cmdline-file", cmdlineFile], { rss: false, env: { ...process.env, FLINT_CODE_CACHE: "write" } });
if (made.code !== 0) throw new Error(`making the code cache failed: ${made.stderr}`);
const blob = buildSnapshot(bundle, tmp, { launcher });

const variants = {
  "node -e 0": [node, ["-e", "0"]],
  "node empty.js": [node, [empty]],
  "flint --version": [node, [bundle, "--version"]],
  "flint --version, code cache": [node, [loader, bundle, "--version"]],
  "flint cmdline": [node, [bundle, "cmdline", "--cmdline-file", cmdlineFile]],
  "flint cmdline, code cache": [node, [loader, bundle, "cmdline", "--cmdline-file", cmdlineFile]],
  "flint --version, snapshot": [node, ["--snapshot-blob", blob, "--", "--version"]],
  "flint cmdline, snapshot": [node, ["--snapshot-blob", blob, "--", "cmdline", "--cmdline-file", cmdlineFile]],
};
const m = alternate(
  Object.entries(variants).map(([name, [cmd, args]]) => ({
    name,
    run: () => {
      const result = callgrind ? countInstructions(cmd, args) : launch(cmd, args, { rss: emulate });
      // A rejected cache would measure a plain compile plus the loader, not the cache.
      if (result.stderr.includes("code cache rejected")) throw new Error(`${name}: V8 rejected the code cache`);
      return result;
    },
  })),
  runs,
);
// Under emulation a run takes seconds: CPU time (user + system) is steadier than wall time there.
const figure = (v) => (callgrind ? v.instructions : emulate ? v.cpuMs : v.ms);
const floor = figure(m["node -e 0"]);
process.stdout.write(`${runs} runs, median ${callgrind ? "instructions (callgrind)" : emulate ? "CPU time (user + system)" : "wall time"}${emulate ? " under qemu-x86_64" : ""}\n`);
for (const [name, v] of Object.entries(m)) {
  const x = figure(v);
  const shown = callgrind ? `${(x / 1e6).toFixed(1)} M` : fmtMs(x);
  const delta = callgrind ? `${((x - floor) / 1e6).toFixed(1)} M` : `${(x - floor).toFixed(1)} ms`;
  process.stdout.write(`${name.padEnd(30)} ${shown.padStart(9)}  ${(x / floor).toFixed(3)}× floor  (${x >= floor ? "+" : ""}${delta})\n`);
}
