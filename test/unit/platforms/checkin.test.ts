// The pieces of a check-in that need no network: the failure's one-line
// reason, the Azure goal state read and the health report written, the
// Hyper-V KVP pool, z/VM's reader listing and the OVF environment pruned.

import assert from "node:assert/strict";
import { parseGoalState, healthReport } from "../../../agent/platforms/azure-wireserver";
import { failureReason } from "../../../agent/console/failure-summary";
import { FlintError } from "../../../agent/errors";
import { parseKvpPool } from "../../../agent/platforms/hyperv";
import { withoutConfigProperties } from "../../../agent/platforms/vmware";
import { ignitionSpoolFiles } from "../../../agent/platforms/zvm";
import { checkHealth, LAB_IDS } from "../../lab/fakes/azure-wireserver";

describe("check-in pieces", () => {
  it("the failure's reason is one line: stage, where, and the message's lines joined", () => {
    const err = new FlintError("invalid config:\n  storage.files.0.path: path must be absolute\n", "user config");
    assert.equal(failureReason("fetch", err), "Flint failed in stage fetch: user config: invalid config: storage.files.0.path: path must be absolute");
  });

  it("reads the goal state's incarnation, container and first role instance", () => {
    const goal = parseGoalState(`<?xml version="1.0"?><GoalState><Version>2012-11-30</Version><Incarnation>3</Incarnation><Machine/><Container><ContainerId>c-1</ContainerId><RoleInstanceList><RoleInstance><InstanceId>i-1</InstanceId><State>Started</State></RoleInstance><RoleInstance><InstanceId>i-2</InstanceId></RoleInstance></RoleInstanceList></Container></GoalState>`);
    assert.deepEqual(goal, { incarnation: "3", containerId: "c-1", instanceId: "i-1" });
    assert.throws(() => parseGoalState("<GoalState><Incarnation>1</Incarnation></GoalState>"), /lacks/);
  });

  it("writes Ready and NotReady reports the WireServer fake accepts, the reason escaped and on one line", () => {
    assert.deepEqual(checkHealth(healthReport(LAB_IDS, { ok: true }), LAB_IDS), { state: "Ready" });
    const report = healthReport(LAB_IDS, { ok: false, reason: "bad <path> & more\nsecond line" });
    assert.match(report, /<Description>bad &lt;path&gt; &amp; more second line<\/Description>/);
    assert.deepEqual(checkHealth(report, LAB_IDS), { state: "NotReady", subStatus: "ProvisioningFailed", description: "bad <path> & more second line" });
    assert.match(String(checkHealth(healthReport({ ...LAB_IDS, instanceId: "other" }, { ok: true }), LAB_IDS)), /InstanceId does not match/);
  });

  it("reads a KVP pool file's records; refuses a file that is not whole records", () => {
    const record = (key: string, value: string) => {
      const r = Buffer.alloc(2560);
      r.write(key, 0);
      r.write(value, 512);
      return r;
    };
    const pool = parseKvpPool(Buffer.concat([record("a", "1"), record("ignition.config", "{}")]), "pool");
    assert.deepEqual([...pool], [["a", "1"], ["ignition.config", "{}"]]);
    assert.throws(() => parseKvpPool(Buffer.alloc(100), "pool"), /not a KVP pool/);
  });

  it("finds the ign spool files in vmur's listing", () => {
    const listing = "ORIGINID FILE CLASS RECORDS  CPY HOLD DATE  TIME     NAME      TYPE     DIST\nMAINT    0012 A PUN 00000001 001 NONE 12/08 00:00:01 PROFILE   EXEC     MAINT\nMAINT    0017 A PUN 00000003 001 NONE 12/08 00:00:02 CONFIG    ign      MAINT\n";
    assert.deepEqual(ignitionSpoolFiles(listing), [{ spoolId: "0017", file: "CONFIG.ign" }]);
  });

  it("prunes the config's properties from an OVF environment, and says when there were none", () => {
    const xml = `<Environment>\n  <PropertySection>\n    <Property oe:key="guestinfo.hostname" oe:value="h"/>\n    <Property oe:key="guestinfo.ignition.config.data" oe:value="e30="/>\n  </PropertySection>\n</Environment>\n`;
    assert.equal(withoutConfigProperties(xml), `<Environment>\n  <PropertySection>\n    <Property oe:key="guestinfo.hostname" oe:value="h"/>\n  </PropertySection>\n</Environment>\n`);
    assert.equal(withoutConfigProperties(`<Environment><Property oe:key="monkey" oe:value="x"/></Environment>`), undefined);
  });
});
