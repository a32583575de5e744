// Whether udev runs, told from its control socket without a process: a
// missing socket and one left behind by a daemon that exited say no. The
// live daemon's answer (a SOCK_SEQPACKET socket refusing a stream) is checked
// against a real systemd-udevd in test/integration/disks/udev-links.test.ts.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { udevRunning } from "../../../agent/devices/udev";

describe("telling whether udev runs", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-udev-control-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("says no without a control socket", async () => {
    assert.equal(await udevRunning(join(dir, "control")), false);
  });

  it("says no for a socket file its daemon left behind", async () => {
    const control = join(dir, "control");
    // A process that exits while listening leaves its socket file, as udevd's stays after it exits.
    const left = spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(control)}, () => process.exit(0))`]);
    assert.equal(left.status, 0);
    assert.ok(existsSync(control));
    assert.equal(await udevRunning(control), false);
  });
});
