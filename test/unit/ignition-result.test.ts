import assert from "node:assert/strict";
import { rfc3339 } from "../../agent/ignition-result";

describe("the Ignition result's provisioningDate", () => {
  let savedTz: string | undefined;
  beforeEach(() => (savedTz = process.env.TZ));
  afterEach(() => {
    if (savedTz === undefined) delete process.env.TZ;
    else process.env.TZ = savedTz;
  });

  it("is Go's time.RFC3339 of the local time: to the second, Z in UTC, the offset elsewhere", () => {
    const when = new Date(Date.UTC(2026, 11, 8, 1, 2, 3, 456));
    process.env.TZ = "UTC";
    assert.equal(rfc3339(when), "2026-12-08T01:02:03Z");
    process.env.TZ = "Europe/Paris";
    assert.equal(rfc3339(when), "2026-12-08T02:02:03+01:00");
    process.env.TZ = "America/St_Johns";
    assert.equal(rfc3339(when), "2026-12-07T21:32:03-03:30");
    assert.equal(Date.parse(rfc3339(when)), Date.UTC(2026, 11, 8, 1, 2, 3));
  });
});
