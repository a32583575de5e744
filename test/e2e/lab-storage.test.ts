// A first boot in the cloud lab (test/e2e/lab.ts) whose config comes partly
// from cloud storage: an AWS machine (found by DMI, IMDSv2 only) whose user
// data merges an s3:// config, read with the instance role's credentials.
// The lab's S3 (test/lab/fakes/s3.ts) answers at its real names through the
// lab's DNS, over HTTPS with the lab's CA, and refuses anything not signed
// with those credentials, so the merged file on the disk proves the whole
// path: region discovery, IMDS credentials, SigV4.

import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { artefacts, boot, freshDisk, inspectDisk, PLACEHOLDER_GUID, scratch, writeConfig } from "./harness";
import { Lab } from "./lab";

const FIRST_BOOT = `flatcar.first_boot=detected flatcar.randomize_guid=${PLACEHOLDER_GUID}`;
const SWITCHED_ROOT = "flint-test: multi-user.target reached";
const dataUrl = (text: string) => `data:,${encodeURIComponent(text)}`;
const OBJECT = "s3://flint-lab-west/configs/boot.ign";

describe("a first boot in the cloud lab with a config from cloud storage", function () {
  this.timeout(1_800_000);
  let dir: string;
  let lab: Lab | undefined;

  before(function () {
    this.timeout(3_600_000);
    artefacts();
    dir = scratch("lab-storage");
  });
  afterEach(async function () {
    await lab?.stop();
    if (this.currentTest?.state === "passed") lab?.removeFiles();
    else if (lab) console.error(`    lab logs kept in ${lab.dir}`);
    lab = undefined;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("aws: the user data merges an s3:// config in another region, read with the instance role", async () => {
    const userdata = writeConfig(dir, "aws-s3.ign", {
      ignition: { version: "3.3.0", config: { merge: [{ source: OBJECT }] } },
      storage: { files: [{ path: "/etc/flint-lab/marker", mode: 0o644, contents: { source: dataUrl("aws user data\n") } }] },
    });
    const merged = writeConfig(dir, "from-s3.ign", {
      ignition: { version: "3.3.0" },
      storage: { files: [{ path: "/etc/flint-lab/from-s3", mode: 0o644, contents: { source: dataUrl("merged from s3\n") } }] },
    });
    lab = await Lab.start({ name: "aws-s3", platform: "aws", userdata, scenario: "imdsv2-only", objects: { [OBJECT]: merged } });
    const disk = freshDisk(dir, "aws-s3.img");
    const result = await boot({ name: "lab-aws-s3", disk, append: `${FIRST_BOOT} ${lab.cmdline}`.trim(), ...lab.bootOptions() });
    assert.equal(result.timedOut, false, `the boot hit its time limit; console: ${result.logFile}`);
    assert.equal(result.console.includes("Flint failed"), false, `a Flint stage failed; console: ${result.logFile}`);
    assert.equal(result.console.includes(SWITCHED_ROOT), true, `the real root was never reached; console: ${result.logFile}`);
    const requests = lab.requests();
    assert.ok(requests.includes("198.51.100.3 HEAD / 301"), `the bucket's region was asked: ${requests.join("; ")}`);
    assert.ok(requests.includes("198.51.100.3 GET /configs/boot.ign 200"), `the object was read: ${requests.join("; ")}`);
    assert.ok(requests.some((r) => / GET \/latest\/meta-data\/iam\/security-credentials\/flint-lab-instance-role 200$/.test(r)));
    assert.match(lab.dnsLog(), /query\[A+\] flint-lab-west\.s3\.dualstack\.eu-west-1\.amazonaws\.com/);
    await inspectDisk(disk, ({ root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), "aws user data\n");
      assert.equal(readFileSync(join(root, "etc/flint-lab/from-s3"), "utf8"), "merged from s3\n");
    });
  });
});
