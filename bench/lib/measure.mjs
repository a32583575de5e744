// Runs commands as black boxes and measures them: wall time from the parent's
// clock, peak RSS from GNU time (`/usr/bin/time -f %M`, the kernel's
// ru_maxrss of the child and everything it waited for).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";
export const HAVE_GNU_TIME = existsSync(GNU_TIME);

const scratch = mkdtempSync(join(tmpdir(), "flint-bench-measure-"));
process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));

/**
 * Runs `cmd args` once and returns { ms, rssKiB, cpuMs, code, stderr }.
 * With `rss: false` the command runs directly (no GNU time in between), so
 * its wall time carries no wrapper cost; use that for figures of a few ms.
 */
export function runOnce(cmd, args, { rss = true, cwd, env, input } = {}) {
  const useTime = rss && HAVE_GNU_TIME;
  const rssFile = join(scratch, "rss");
  const [file, argv] = useTime ? [GNU_TIME, ["-f", "%M %U %S", "-o", rssFile, cmd, ...args]] : [cmd, args];
  const start = process.hrtime.bigint();
  const result = spawnSync(file, argv, {
    cwd,
    env: env ?? process.env,
    input,
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error) throw result.error;
  let rssKiB = null;
  let cpuMs = null;
  if (useTime) {
    // GNU time writes "Command exited with non-zero status N" before the format line.
    const [maxrss, user, sys] = readFileSync(rssFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
    rssKiB = Number.isFinite(maxrss) ? maxrss : null;
    // User + system CPU seconds (10 ms resolution): what the child itself burnt, waiting excluded.
    cpuMs = Number.isFinite(user) && Number.isFinite(sys) ? (user + sys) * 1000 : null;
  }
  return {
    ms,
    rssKiB,
    cpuMs,
    code: result.status ?? 128 + (result.signal ? 1 : 0),
    signal: result.signal,
    stdout: result.stdout?.toString() ?? "",
    stderr: result.stderr?.toString() ?? "",
  };
}

export function median(values) {
  const sorted = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The reason a failed run gives, in one line, for an "n/a (reason)" cell. */
export function failureReason(result) {
  const lines = `${result.stderr}`.split("\n").map((l) => l.trim()).filter(Boolean);
  const last = lines.find((l) => /not implemented|not supported|error|invalid|unknown/i.test(l)) ?? lines.at(-1);
  return `exit ${result.code}${last ? `: ${last.slice(0, 160)}` : ""}`;
}

export class NotAvailable extends Error {}

/**
 * Measures several contenders in one invocation, alternating A, B, A, B… so a
 * slow patch of a noisy machine falls on all of them alike. Each contender is
 * { name, run: (i) => result, prepare?: (i) => void, cleanup?: (i) => void };
 * `prepare`/`cleanup` are not timed. One untimed warm-up round comes first
 * (unless `warmup: false`).
 * A contender whose warm-up fails throws NotAvailable with its reason.
 */
export function alternate(contenders, runs, { warmup = true } = {}) {
  const samples = Object.fromEntries(contenders.map((c) => [c.name, []]));
  for (let round = warmup ? -1 : 0; round < runs; round++) {
    for (const c of contenders) {
      c.prepare?.(round);
      let result;
      try {
        result = c.run(round);
      } finally {
        c.cleanup?.(round);
      }
      if (result.code !== 0) {
        const reason = `${c.name}: ${failureReason(result)}`;
        throw new NotAvailable(reason);
      }
      if (round >= 0) samples[c.name].push(result);
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, list]) => [
      name,
      {
        ms: median(list.map((r) => r.ms)),
        rssKiB: median(list.map((r) => r.rssKiB)),
        instructions: median(list.map((r) => r.instructions)),
        cpuMs: median(list.map((r) => r.cpuMs)),
        runs: list.length,
        msAll: list.map((r) => round2(r.ms)),
      },
    ]),
  );
}

export function round2(x) {
  return x === null || x === undefined ? null : Math.round(x * 100) / 100;
}

export const HAVE_VALGRIND = ["/usr/bin/valgrind", "/usr/local/bin/valgrind"].some((p) => existsSync(p));

/**
 * Counts the instructions a command executes, under valgrind's callgrind:
 * unlike wall time it barely moves when other work shares the machine
 * (about 1 % run to run for Node, from hash seeds and address layout).
 * Returns a runOnce-style result (its `ms` is valgrind's) with `instructions`.
 */
export function countInstructions(cmd, args, options = {}) {
  const out = join(scratch, "callgrind.out");
  const result = runOnce("valgrind", ["--tool=callgrind", `--callgrind-out-file=${out}`, cmd, ...args], { ...options, rss: false });
  rmSync(out, { force: true });
  const match = /Collected\s*:\s*(\d+)/.exec(result.stderr);
  return { ...result, instructions: match ? Number(match[1]) : null };
}
