// The order that makes a batch of files durable, watched from outside: the
// bundled agent writes many files while this process looks at the tree.

import { strict as assert } from "node:assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEMP_PREFIX } from "../../../agent/root/write";
import { snapshotTree, useTempRoot } from "../../helpers/root";

const FLINT = join(__dirname, "../../../dist/flint.js");
const FILES = 400;
const DIRS = 20;

function contentsOf(i: number): string {
  return `${"x".repeat(4000)}${i}\n`;
}

const MANY = {
  ignition: { version: "3.4.0" },
  storage: {
    files: Array.from({ length: FILES }, (_, i) => ({ path: `/srv/data/d${i % DIRS}/f${i}`, mode: 0o640, contents: { source: `data:,${encodeURIComponent(contentsOf(i))}` } })),
  },
};

/** Every name now under /srv/data/dN, split into temporary and real ones. */
function look(root: string): { temps: string[]; real: string[] } {
  const temps: string[] = [];
  const real: string[] = [];
  for (let d = 0; d < DIRS; d++) {
    let names: string[];
    try {
      names = readdirSync(join(root, `srv/data/d${d}`));
    } catch {
      continue; // not made yet
    }
    for (const name of names) (name.startsWith(TEMP_PREFIX) ? temps : real).push(`d${d}/${name}`);
  }
  return { temps, real };
}

/** A real name's contents, or undefined when it went away between readdir and read. */
function readReal(root: string, rel: string): string | undefined {
  try {
    return readFileSync(join(root, "srv/data", rel), "utf8");
  } catch {
    return undefined;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("files stage: crash safety of a batch", () => {
  let child: ChildProcess | undefined;
  // Registered before the root's cleanup, so it runs first: no agent outlives its test.
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited(child);
    }
    child = undefined;
  });
  const t = useTempRoot();
  let config: string;
  beforeEach(() => {
    config = join(t.dir, "many.ign");
    writeFileSync(config, JSON.stringify(MANY));
  });

  it("never shows a half-written file under its real name while it runs", async () => {
    const root = t.root;
    child = spawn(process.execPath, [FLINT, "apply", "--config", config, "--root", root, "--stages", "files"], { stdio: "ignore" });
    const done = exited(child);
    let running = true;
    void done.then(() => (running = false));
    const checked = new Set<string>();
    let sawWork = false; // temporary files seen while it ran: the watch overlapped the writing
    while (running) {
      const now = look(root);
      if (now.temps.length > 0 && now.real.length < FILES) sawWork = true;
      for (const rel of now.real) {
        if (checked.has(rel)) continue;
        const text = readReal(root, rel);
        if (text === undefined) continue;
        assert.equal(text, contentsOf(Number(rel.split("/f")[1])), `${rel} was visible incomplete`);
        checked.add(rel);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(child.exitCode, 0);
    assert.ok(sawWork, "the run finished before the watch saw it at work");
    assert.equal(look(root).real.length, FILES);
    assert.deepEqual(look(root).temps, []);
  });

  it("killed while it writes temporary files, leaves no real name; the next run writes them all and sweeps the rest", async () => {
    const root = t.root;
    child = spawn(process.execPath, [FLINT, "apply", "--config", config, "--root", root, "--stages", "files"], { stdio: "ignore" });
    // Kill as soon as the first temporary file shows up.
    let seen = look(root);
    while (seen.temps.length === 0 && child.exitCode === null) {
      await new Promise((resolve) => setImmediate(resolve));
      seen = look(root);
    }
    child.kill("SIGKILL");
    await exited(child);
    assert.equal(child.signalCode, "SIGKILL", "the run ended before it could be killed");

    const after = look(root);
    assert.deepEqual(after.real, [], "a file reached its real name before the batch was synced");
    assert.ok(after.temps.length > 0);

    const rerun = spawnSync(process.execPath, [FLINT, "apply", "--config", config, "--root", root, "--stages", "files"], { encoding: "utf8" });
    assert.equal(rerun.status, 0, rerun.stderr);
    const final = look(root);
    assert.deepEqual(final.temps, []);
    assert.equal(final.real.length, FILES);
    for (const rel of final.real) assert.equal(readReal(root, rel), contentsOf(Number(rel.split("/f")[1])), rel);
    assert.deepEqual(snapshotTree(root).filter((l) => l.includes(TEMP_PREFIX)), []);
  });
});
