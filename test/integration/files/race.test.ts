// A root changed while Flint writes into it: another process swaps a
// directory of the root for a symlink to a directory outside it, again and
// again, during a run. Every step walks its parents afresh with O_NOFOLLOW,
// so the run may fail or land files inside the root, but nothing is ever
// written outside it (the canary beside the root is checked after each test).

import { strict as assert } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeError, FlintError } from "../../../agent/errors";
import { useTempRoot } from "../../helpers/root";
import { applyConfig, useCapturedLog, V } from "./run";

/** Swaps ROOT/d with a symlink to `outside` (absolute, then relative) until killed, writing its swap count as it goes. */
const SWAPPER = String.raw`
const fs = require("fs");
const [root, outside, relative] = process.argv.slice(1);
const d = root + "/d", real = root + "/d.real";
let swaps = 0;
const pause = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  try {
    fs.renameSync(d, real);
    fs.symlinkSync(swaps % 2 ? outside : relative, d);
    swaps++;
    for (let i = 0; i < 200; i++); // a moment in the swapped state
    fs.unlinkSync(d);
    fs.renameSync(real, d);
  } catch {
    // Flint may make ROOT/d anew while it is away (its walk creates what is
    // missing): put that one aside, inside the root, and swap on.
    try {
      if (fs.lstatSync(d).isDirectory() && fs.existsSync(real)) {
        fs.renameSync(d, root + "/d.made-" + swaps);
        fs.renameSync(real, d);
      }
    } catch {}
  }
  if (swaps % 16 === 0) fs.writeSync(1, swaps + "\n");
  Atomics.wait(pause, 0, 0, 10); // 10 ms in the real state, so that runs get some way between swaps
}
`;

interface Swapper {
  /** Swaps so far (as last reported). */
  swaps(): number;
  /** Resolves once the swapper has reported `n` swaps. */
  reached(n: number): Promise<void>;
  stop(): Promise<number>;
}

function startSwapper(root: string, outside: string, relative: string): Swapper {
  const child: ChildProcess = spawn(process.execPath, ["-e", SWAPPER, root, outside, relative], { stdio: ["ignore", "pipe", "inherit"] });
  let tail = "";
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  child.stdout!.on("data", (c: Buffer) => {
    tail = (tail + c.toString()).slice(-100);
    const lines = tail.trim().split("\n");
    count = Number(lines[lines.length - 1]) || count;
    for (const w of waiters.filter((w) => count >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  return {
    swaps: () => count,
    reached: (n) => (count >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL"); // a busy loop never sees a gentler signal
        await exited;
      }
      return count;
    },
  };
}

describe("files stage: a directory swapped for a symlink during the run", () => {
  useCapturedLog();
  const t = useTempRoot();
  let swapper: Swapper | undefined;
  afterEach(async () => {
    await swapper?.stop();
    swapper = undefined;
  });

  it("never writes outside the root, whatever the swaps (files, directories, symlinks and hard links under the swapped directory)", async function () {
    this.timeout(300_000);
    mkdirSync(join(t.root, "d"));
    // The canary's etc, as an absolute target and as one relative to ROOT/d's parent.
    const outside = join(t.canary, "etc");
    const relative = "../canary/etc";
    const files = [];
    for (let i = 0; i < 1500; i++) files.push({ path: `/d/s${i % 30}/f${i}`, contents: { source: `data:,${i}` }, overwrite: true });
    const config = {
      ignition: { version: V },
      storage: {
        files,
        directories: [{ path: "/d/made", mode: 0o700 }],
        links: [
          { path: "/d/s1/sym", target: "/etc/shadow", overwrite: true },
          { path: "/d/s2/hard", target: "/etc/shadow", hard: true, overwrite: true },
        ],
      },
    };
    swapper = startSwapper(t.root, outside, relative);
    await swapper.reached(16); // swapping before the first run starts
    const outcomes: string[] = [];
    // Runs until the swapper has swapped a good many times during them: each
    // run walks every parent again; some may fail on a swap, none may escape.
    const startedAt = swapper.swaps();
    const until = Date.now() + 120_000;
    for (let run = 0; run < 3 || (swapper.swaps() - startedAt < 200 && Date.now() < until); run++) {
      try {
        await applyConfig(t.root, config);
        outcomes.push("ok");
      } catch (e) {
        assert.ok(e instanceof FlintError || (e as NodeJS.ErrnoException).code !== undefined, `not a clear error: ${describeError(e)}`);
        assert.doesNotMatch(describeError(e), /\n\s+at /, "no stack trace");
        outcomes.push("failed: " + describeError(e).split("\n")[0]);
      }
    }
    const swaps = await swapper.stop();
    swapper = undefined;
    // A swap killed half-way may leave ROOT/d a symlink and the directory at ROOT/d.real: that is inside the root.
    assert.ok(swaps - startedAt >= 200, `the swapper ran during the runs (${swaps - startedAt} swaps)`);
    // The canary is compared with its snapshot by useTempRoot; say here what was tried.
    assert.equal(readFileSync(join(t.canary, "etc/motd"), "utf8"), "canary\n");
    assert.ok(outcomes.length >= 3);
    if (process.env.FLINT_RACE_DEBUG) console.log(swaps, outcomes);
  });
});
