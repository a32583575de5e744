// Figure 6 — boot: time from kernel start to switch-root on a first boot vs
// a later boot of the same image (the difference is what Flint costs a first
// boot), and the initramfs size with the Flint module (run from /usr, the
// default, and with Node inside) and without it.
//
// It boots nothing itself: it reads the serial console logs that the
// end-to-end tests keep (`npm run test:e2e` → test-output/e2e/1-first-boot.log
// and 2-second-boot.log, one machine's first and next boot under TCG), and the
// initramfs they built (.cache/boot/e2e/initramfs-flint.img, or the demo
// VM's .cache/boot/initramfs-flint.img, whichever is newer). The image
// without Flint, and the one with Node inside, are built here with the boot
// work's own script (scripts/build-initramfs.sh --without-flint,
// --node-in-initramfs), cached per kernel under
// .cache/bench/. One boot each: these are single figures, not medians.
//
// The console carries kernel timestamps (printk.time=1, seconds since the
// kernel started). Switch-root is read as the moment systemd, re-executed in
// the real root, prints its banner for the second time; failing that, the
// initrd journald being told to stop.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { median } from "../lib/measure.mjs";
import { fmtBytes, ratio, row } from "../lib/report.mjs";

export const title = "boot";

const FIRST_LOG = "test-output/e2e/1-first-boot.log";
const LATER_LOG = "test-output/e2e/2-second-boot.log";
/** Initramfs images with Flint, from the e2e tests or the demo VM (npm run vm); the newest is used. */
const WITH_FLINT = [".cache/boot/e2e/initramfs-flint.img", ".cache/boot/initramfs-flint.img"];

export async function measure(ctx) {
  const data = {};
  const rows = [];

  const first = readSwitchRoot(join(ctx.repo, FIRST_LOG));
  const later = readSwitchRoot(join(ctx.repo, LATER_LOG));
  Object.assign(data, { firstBoot: first, laterBoot: later });
  const what = "boot: kernel start → switch-root, first vs later (TCG, 1 boot each)";
  if (first.na || later.na) {
    rows.push(row("6", what, { na: first.na ?? later.na }));
  } else {
    data.flintOverheadMs = first.ms - later.ms;
    rows.push(row("6", what, { ms: first.ms }, { ms: later.ms }, { text: `Flint adds ${((first.ms - later.ms) / 1000).toFixed(1)} s` }));
  }

  if (!first.na) {
    const text = readFileSync(join(ctx.repo, FIRST_LOG), "utf8");
    const stages = flintStages(text);
    data.firstBootStages = stages;
    if (stages.length) {
      const total = stages.reduce((sum, s) => sum + s.ms, 0);
      data.firstBootStagesTotalMs = total;
      rows.push(
        row("6", `first boot: ${stages.length} Flint stage units, start → finish, summed`, { ms: total }, null, {
          text: `≤ 4 s ${total <= 4000 ? "✓" : "✗"}`,
        }),
      );
      const split = stages.map((s) => `${s.unit.replace(/^flint-/, "")} ${(s.ms / 1000).toFixed(2)}`).join(", ");
      rows.push(row("6", "first boot: per stage unit (s)", { text: split }));
      // The agent's own count of each stage's run, against the unit's: the rest is systemd and the shell client.
      const inAgent = agentStageTimes(text);
      const served = stages.filter((s) => inAgent.has(s.unit.replace(/^flint-/, "")));
      if (served.length) {
        const work = served.reduce((sum, s) => sum + inAgent.get(s.unit.replace(/^flint-/, "")), 0);
        data.firstBootStagesInAgentMs = work;
        rows.push(
          row("6", "first boot: of which the stages' own work in the agent", { ms: work }, null, {
            text: `${((served.reduce((sum, s) => sum + s.ms, 0) - work) / 1000).toFixed(2)} s around it (systemd, client, FIFOs) in ${served.length} units`,
          }),
        );
      }
    }
    const nodes = nodeProcesses(text);
    data.firstBootNodeProcesses = nodes;
    rows.push(row("6", "first boot: Node processes in the initramfs", { text: String(nodes) }, null, { text: `≤ 2 ${nodes <= 2 ? "✓" : "✗"}` }));
    const agent = agentStartup(text);
    data.agent = agent;
    if (agent) {
      rows.push(
        row("6", "first boot: the agent, unit start → ready (Node start-up)", { ms: agent.readyMs }, null, {
          text: agent.beforeFirstStageMs >= 0 ? `ready ${(agent.beforeFirstStageMs / 1000).toFixed(1)} s before the first stage unit started` : `the first stage unit waited ${(-agent.beforeFirstStageMs / 1000).toFixed(1)} s for it`,
        }),
      );
    }
  }

  const sizes = initramfsSizes(ctx);
  Object.assign(data, { initramfs: sizes });
  const sizeWhat = "initramfs: Flint run from /usr (sysusr, the default) vs without Flint";
  const added = (bytes) => (bytes < 0 ? `Flint adds −${fmtBytes(-bytes)}` : `Flint adds ${fmtBytes(bytes)}`);
  if (sizes.na) rows.push(row("6", sizeWhat, { na: sizes.na }));
  else {
    const extra = sizes.withFlintBytes - sizes.withoutFlintBytes;
    rows.push(
      row("6", sizeWhat, { text: fmtBytes(sizes.withFlintBytes) }, { text: fmtBytes(sizes.withoutFlintBytes) }, {
        text: `${added(extra)}, ≤ 1 MiB ${extra <= 1 << 20 ? "✓" : "✗"} (Ignition's module: +14.5 MiB)`,
      }, ratio(sizes.withFlintBytes, sizes.withoutFlintBytes)),
    );
    if (sizes.nodeInsideBytes) {
      rows.push(
        row("6", "initramfs: Node inside (--node-in-initramfs) vs without Flint", { text: fmtBytes(sizes.nodeInsideBytes) }, { text: fmtBytes(sizes.withoutFlintBytes) }, {
          text: added(sizes.nodeInsideBytes - sizes.withoutFlintBytes),
        }, ratio(sizes.nodeInsideBytes, sizes.withoutFlintBytes)),
      );
    }
  }
  return { data, rows };
}

/** Seconds-since-kernel-start of switch-root in one console log, as ms. */
export function switchRootMs(consoleText) {
  const stamp = (line) => Number(/^\[\s*(\d+\.\d+)\]/.exec(line)?.[1]) * 1000;
  const lines = consoleText.split("\n");
  const banners = lines.filter((l) => /^\[\s*\d+\.\d+\] systemd\[1\]: systemd \S+ running in system mode/.test(l));
  if (banners.length >= 2) return stamp(banners[1]);
  const stop = lines.find((l) => /^\[\s*\d+\.\d+\] systemd-journald\[\d+\]: Received SIGTERM from PID 1 \(systemd\)/.test(l));
  return stop ? stamp(stop) : null;
}

const stampOf = (line) => Number(/^\[\s*(\d+\.\d+)\]/.exec(line)?.[1]) * 1000;

/**
 * Each Flint stage unit's run on one console: from systemd's "Starting
 * flint-X" to its "Finished flint-X". The agent (a long-running unit),
 * flint-resolv and test fixtures are left out.
 */
export function flintStages(consoleText) {
  const stages = [];
  const open = new Map();
  for (const line of consoleText.split("\n")) {
    const started = /^\[\s*\d+\.\d+\] systemd\[1\]: Starting (flint-[\w@.-]+)\.service/.exec(line);
    const finished = /^\[\s*\d+\.\d+\] systemd\[1\]: Finished (flint-[\w@.-]+)\.service/.exec(line);
    // Not stages: the agent (long-running), flint-resolv (a shell helper run on each DHCP lease), test fixtures.
    if (started && !/^flint-(test|e2e)|^flint-(agent|resolv)$/.test(started[1])) open.set(started[1], { unit: started[1], start: stampOf(line) });
    else if (finished && open.has(finished[1])) {
      const stage = open.get(finished[1]);
      open.delete(finished[1]);
      stages.push({ unit: stage.unit, ms: stampOf(line) - stage.start });
    }
  }
  return stages;
}

/** Each stage's run as the agent timed it (`stage X: exit N after M ms`), by stage name. */
export function agentStageTimes(consoleText) {
  const times = new Map();
  for (const m of consoleText.matchAll(/flint\[\d+\]: flint\[info\]: stage ([\w-]+): exit \d+ after (\d+) ms/g)) times.set(m[1], Number(m[2]));
  return times;
}

/**
 * Node processes of Flint before switch-root: the distinct PIDs that logged
 * as `flint[PID]` (the agent, or a stage run as a process of its own; the
 * stage units' shell clients log as `flint-client`).
 */
export function nodeProcesses(consoleText) {
  const end = consoleText.search(/systemd\[1\]: Switching root/);
  const initramfs = end === -1 ? consoleText : consoleText.slice(0, end);
  return new Set([...initramfs.matchAll(/\] flint\[(\d+)\]: /g)].map((m) => m[1])).size;
}

/**
 * The agent's start-up: from systemd starting flint-agent.service to its
 * "agent ready" line, and how long before (or after) the first stage unit
 * started that was.
 */
export function agentStartup(consoleText) {
  // Journal lines reach the console between other output: the stamp is wherever the line has it.
  const lines = consoleText.split("\n").filter((l) => /\[\s*\d+\.\d+\] /.test(l));
  const at = (line) => Number(/\[\s*(\d+\.\d+)\] /.exec(line)[1]) * 1000;
  const start = lines.find((l) => /systemd\[1\]: Starting flint-agent\.service/.test(l));
  const ready = lines.find((l) => /flint\[info\]: agent ready/.test(l));
  const firstStage = lines.find((l) => /systemd\[1\]: Starting flint-(?!agent|resolv)[\w@.-]+\.service/.test(l));
  if (!start || !ready) return undefined;
  return { readyMs: at(ready) - at(start), beforeFirstStageMs: firstStage ? at(firstStage) - at(ready) : 0 };
}

function readSwitchRoot(path) {
  if (!existsSync(path)) return { na: `no ${path.slice(path.indexOf("test-output"))} (run npm run test:e2e)` };
  const text = readFileSync(path, "utf8");
  const ms = switchRootMs(text);
  const recordedAt = statSync(path).mtime.toISOString();
  if (text.includes("Flint failed")) return { na: `Flint failed in ${path.slice(path.indexOf("test-output"))}`, recordedAt };
  if (ms === null) return { na: `no switch-root in ${path.slice(path.indexOf("test-output"))}`, recordedAt };
  return { ms, recordedAt, log: path };
}

function initramfsSizes(ctx) {
  const withFlint = WITH_FLINT.map((p) => join(ctx.repo, p))
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (!withFlint) return { na: `no ${WITH_FLINT[0]} (run npm run test:e2e or npm run vm)` };
  const kver = newestKernel();
  if (!kver) return { na: "no kernel with modules installed" };
  const cacheDir = join(ctx.repo, ".cache/bench");
  // Rebuilt when the script that builds them changed (it adds the demo's root set-up to both).
  const script = join(ctx.repo, "scripts/build-initramfs.sh");
  const built = (kind, option) => {
    const image = join(cacheDir, `initramfs-${kind}-${kver}.img`);
    if (existsSync(image) && statSync(image).mtimeMs > statSync(script).mtimeMs) return image;
    mkdirSync(cacheDir, { recursive: true });
    process.stderr.write(`  building the initramfs ${option} (dracut, about half a minute)\n`);
    execFileSync(script, [option, "--kver", kver, image], { stdio: ["ignore", "ignore", "pipe"] });
    return image;
  };
  let without;
  let nodeInside;
  try {
    without = built("without-flint", "--without-flint");
    nodeInside = built("node-inside", "--node-in-initramfs");
  } catch (e) {
    if (!without) return { na: `scripts/build-initramfs.sh --without-flint failed: ${`${e.stderr ?? e.message}`.trim().split("\n").at(-1)}` };
  }
  return {
    kernel: kver,
    withFlintBytes: statSync(withFlint).size,
    withoutFlintBytes: statSync(without).size,
    nodeInsideBytes: nodeInside ? statSync(nodeInside).size : null,
    withFlintImage: withFlint.slice(ctx.repo.length + 1),
    withFlintBuiltAt: statSync(withFlint).mtime.toISOString(),
  };
}

function newestKernel() {
  try {
    return readdirSync("/lib/modules")
      .filter((v) => existsSync(`/boot/vmlinuz-${v}`))
      .sort()
      .at(-1);
  } catch {
    return undefined;
  }
}
