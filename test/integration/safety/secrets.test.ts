// Issue 10, case 7: a password hash never reaches a log line or the report.
// A hash that would break a shadow line is refused before any tool runs; if
// one reaches useradd anyway, its message is scrubbed; the report is 0600.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../../agent/config/types";
import { describeError } from "../../../agent/errors";
import { writeReport } from "../../../agent/report";
import { runStages } from "../../../agent/stages/run";
import { snapshotTree, useTempRoot } from "../../helpers/root";
import { logLines, useCapturedLog } from "../files/run";
import { buildBundle, FLINT } from "../../helpers/bundle";

const REPORT = "etc/.flint-result.json";
const HASH = "$6$abcsecretsalt:0:0:x";

const outside = (dir: string) => snapshotTree(dir, { ignore: (rel) => rel === "root" || rel.startsWith("root/") });

describe("safety: password hashes stay out of logs and reports", function () {
  this.timeout(120_000);
  useCapturedLog();
  const t = useTempRoot();

  before(buildBundle);

  it("flint apply refuses a hash with ':' by its JSON path before useradd runs, and never prints it", () => {
    const config = join(t.dir, "config.json");
    writeFileSync(config, JSON.stringify({ ignition: { version: "3.4.0" }, passwd: { users: [{ name: "core", passwordHash: HASH }] } }));
    const before = outside(t.dir);
    const rootBefore = snapshotTree(t.root);
    const r = spawnSync(process.execPath, [FLINT, "--log-level", "debug", "apply", "--config", config, "--root", t.root, "--stages", "files"], { cwd: t.dir, encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /passwd\.users\.0\.passwordHash: password hash must not contain ":"/);
    assert.ok(!(r.stdout + r.stderr).includes("abcsecretsalt"), r.stderr);
    assert.deepEqual(snapshotTree(t.root), rootBefore, "the root changed although the config was invalid");
    assert.deepEqual(outside(t.dir), before);
  });

  it("a refused hash fails by chpasswd, named without the hash in the log and the report, and the report is 0600", async () => {
    // Typed directly, as if validation had let it through: the runner must still scrub it.
    const config = { ignition: { version: "3.4.0" }, passwd: { users: [{ name: "core", passwordHash: HASH }] } } as Config;
    logLines.length = 0;
    const { report, error } = await runStages(config, ["files"], { root: t.root, dryRun: false });
    // The hash reaches only chpasswd's standard input (never a command line); its refusal is named, the hash is not.
    assert.match(describeError(error), /chpasswd failed \(exit status \d+\)/);
    assert.ok(!describeError(error).includes(HASH));
    await writeReport(t.root, report);
    const written = readFileSync(join(t.root, REPORT), "utf8");
    assert.match(written, /chpasswd failed/);
    assert.equal(statSync(join(t.root, REPORT)).mode & 0o777, 0o600);
    for (const text of [written, ...logLines, describeError(error)]) assert.ok(!text.includes("abcsecretsalt"), `the hash leaked: ${text}`);
    assert.ok(!readFileSync(join(t.root, "etc/shadow"), "utf8").includes("abcsecretsalt"));
  });
});
