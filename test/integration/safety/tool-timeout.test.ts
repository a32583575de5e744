// Issue 10, case 9 (the tools' half): a tool that hangs on something in the
// root is killed when its time is up, and the error names it. Here useradd,
// chrooted into the root, blocks opening a FIFO at /etc/nsswitch.conf (which
// Flint itself does not read, so only the time limit can catch it).

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { buildBundle, FLINT } from "../../helpers/bundle";


describe("safety: a hanging tool is killed and named", function () {
  this.timeout(60_000);
  const t = useTempRoot();

  before(buildBundle);

  it("useradd blocked on a FIFO in the root fails the run after FLINT_TOOL_TIMEOUT, naming useradd", () => {
    execFileSync("mkfifo", [join(t.root, "etc/nsswitch.conf")]);
    const config = join(t.dir, "config.json");
    writeFileSync(config, JSON.stringify({ ignition: { version: "3.4.0" }, passwd: { users: [{ name: "core" }] } }));
    const outside = () => snapshotTree(t.dir, { ignore: (rel) => rel === "root" || rel.startsWith("root/") });
    const before = outside();
    const started = Date.now();
    const r = spawnSync(process.execPath, [FLINT, "apply", "--config", config, "--root", t.root, "--stages", "files"], { encoding: "utf8", env: { ...process.env, FLINT_TOOL_TIMEOUT: "1" }, timeout: 30_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(Date.now() - started < 20_000, "the time limit did not fire");
    assert.match(r.stderr, /useradd did not finish within 1 s; it was killed/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "a stack trace");
    const left = spawnSync("pgrep", ["-f", `useradd --root ${t.root} `]);
    assert.notEqual(left.status, 0, "useradd is still running");
    assert.deepEqual(outside(), before);
  });

  it("refuses a FLINT_TOOL_TIMEOUT that is not a positive number", () => {
    const config = join(t.dir, "config.json");
    writeFileSync(config, JSON.stringify({ ignition: { version: "3.4.0" }, passwd: { users: [{ name: "core" }] } }));
    const r = spawnSync(process.execPath, [FLINT, "apply", "--config", config, "--root", t.root, "--stages", "files"], { encoding: "utf8", env: { ...process.env, FLINT_TOOL_TIMEOUT: "soon" } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /FLINT_TOOL_TIMEOUT: must be a positive number of seconds \(got "soon"\)/);
  });
});
