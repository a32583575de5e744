// Issue 10, case 2: a name from the config never becomes an option of a tool
// or a path outside the root. Unit names are validated as systemd does; the
// stage refuses a bad one on its own; and every tool call ends its options
// with "--" (mdadm, which takes no "--", gets absolute paths only). The canary beside the root, and the
// directory a run starts in, stay untouched.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../../agent/config/types";
import { describeError } from "../../../agent/errors";
import { runStages } from "../../../agent/stages/run";
import { useradd } from "../../../agent/system/shadow";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { useCapturedLog } from "../files/run";
import { buildBundle, FLINT } from "../../helpers/bundle";

const UNIT = "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n";

/** Everything beside the root (the canary, files dropped in the parent), for before/after comparison. */
const outside = (dir: string) => snapshotTree(dir, { ignore: (rel) => rel === "root" || rel.startsWith("root/") });

async function inDirectory<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(before);
  }
}

describe("safety: config names never become tool options", function () {
  this.timeout(120_000);
  useCapturedLog();
  const t = useTempRoot();

  before(buildBundle);

  for (const name of ["--root=.service", "-x.service", "-Hevil.service", "a\nb.service"]) {
    it(`flint apply rejects the unit ${JSON.stringify(name)} with its JSON path before touching anything`, () => {
      const config = join(t.dir, "config.json");
      writeFileSync(config, JSON.stringify({ ignition: { version: "3.4.0" }, systemd: { units: [{ name: "ok.service", contents: UNIT, enabled: true }, { name, contents: UNIT, enabled: true }] } }));
      const before = outside(t.dir);
      const rootBefore = snapshotTree(t.root);
      const r = spawnSync(process.execPath, [FLINT, "apply", "--config", config, "--root", t.root, "--stages", "files"], { cwd: t.dir, encoding: "utf8" });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /systemd\.units\.1\.name: unit name /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "a stack trace");
      assert.deepEqual(outside(t.dir), before);
      assert.deepEqual(snapshotTree(t.root), rootBefore);
    });
  }

  it("the files stage refuses a bad unit name on its own, when a config reaches it unvalidated", async () => {
    const config = { ignition: { version: "3.4.0" }, systemd: { units: [{ name: "--root=.service", contents: UNIT, enabled: true }] } } as Config;
    const before = outside(t.dir);
    const { error } = await inDirectory(t.dir, () => runStages(config, ["files"], { root: t.root, dryRun: false }));
    assert.match(describeError(error), /^systemd\.units\.0\.name\b.*: unit name must not begin with "-" \(got "--root=.service"\)/);
    assert.deepEqual(outside(t.dir), before);
  });


  it("useradd takes an option-like user name after '--' as a name, and refuses it", async () => {
    const before = snapshotTree(t.root);
    const e = await useradd(t.root, { name: "-oGroot" }).then(() => undefined, (err: unknown) => err);
    assert.match(describeError(e), /useradd failed .*invalid user name '-oGroot'/s);
    assert.deepEqual(snapshotTree(t.root), before);
  });
});
