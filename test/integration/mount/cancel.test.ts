// A boot's mount stage that fails or is cancelled half-way (its unit stopped:
// the agent aborts the request's signal) still unmounts what it mounted,
// though the run was not asked for umount. Real ext4 filesystems on loop
// devices.

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inScope } from "../../../agent/scope";
import { runStages } from "../../../agent/stages/run";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";
import { buildBundle, FLINT } from "../../helpers/bundle";

function mountedUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p === dir || p.startsWith(dir + "/"));
}

describe("a mount stage that stops half-way unmounts what it mounted", function () {
  this.timeout(120_000);
  let t: TempRoot;
  const loops: string[] = [];

  before(buildBundle);
  beforeEach(() => {
    t = makeTempRoot("flint-mount-cancel-");
    for (const name of ["var", "srv"]) {
      const image = join(t.dir, `${name}.img`);
      execFileSync("truncate", ["-s", "32M", image]);
      execFileSync("mkfs.ext4", ["-q", "-F", "-L", name, image]);
      loops.push(execFileSync("losetup", ["-f", "--show", image], { encoding: "utf8" }).trim());
    }
  });
  afterEach(() => {
    for (const point of mountedUnder(t.dir).sort((a, b) => b.length - a.length)) spawnSync("umount", [point]);
    while (loops.length) spawnSync("losetup", ["-d", loops.pop()!]);
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore, "something was written outside the root");
    t.cleanup();
  });

  it("flint mount at boot (no umount asked for) that fails on its second filesystem leaves nothing mounted", () => {
    mkdirSync(join(t.dir, "run"));
    const cache = join(t.dir, "run/config.json");
    writeFileSync(cache, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { filesystems: [{ device: loops[0], format: "ext4", path: "/var" }, { device: "/dev/flint-no-such-device", format: "ext4", path: "/srv" }] } }), { mode: 0o600 });
    const r = spawnSync(process.execPath, [FLINT, "mount", "--root", t.root, "--cache", cache], { encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /unmounting after the failure/);
    assert.deepEqual(mountedUnder(t.root), [], "the mount that worked was not undone");
  });

  it("cancelled after its first mount: the stage stops, and the unmount runs though the request's signal is aborted", async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const config = { ignition: { version: "3.4.0" }, storage: { filesystems: [{ device: loops[0], format: "ext4", path: "/var" }, { device: loops[1], format: "ext4", path: "/srv" }] } };
    const scope = {
      log: {
        level: "debug" as const,
        format: "text" as const,
        write: (line: string) => {
          lines.push(line);
          // The client goes away once the first filesystem is mounted.
          if (/\bmount ended \(0\)/.test(line)) controller.abort(new Error("cancelled: its client went away"));
        },
      },
      signal: controller.signal,
    };
    const { error, report } = await inScope(scope, () => runStages(config as never, ["mount"], { root: t.root, dryRun: false, runDir: join(t.dir, "run"), signal: controller.signal }));
    assert.match(String((error as Error)?.message), /cancelled/);
    assert.ok(lines.some((l) => l.includes("mounting") && l.includes(" at /var")), lines.join("\n"));
    assert.equal(lines.some((l) => l.includes(" at /srv")), false, "the stage went on after it was cancelled");
    assert.deepEqual(report.stages.map((s) => s.name), ["mount", "umount"]);
    assert.deepEqual(mountedUnder(t.root), [], "what the cancelled stage mounted is still mounted");
  });
});
