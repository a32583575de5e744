import assert from "node:assert/strict";
import { reportBytes, type FlintReport } from "../../agent/report";

describe("the result report's text", () => {
  it("is JSON.stringify(report, null, 2) plus a newline, written a piece at a time", () => {
    const actions = Array.from({ length: 15000 }, (_, i) => (i % 3 ? { kind: "create", target: `/etc/f-${i} "quoted" é`, detail: "mode=0644 owner=0:0" } : { kind: "mkdir", target: `/d/${i}` }));
    const report: FlintReport = {
      format: 1,
      flintVersion: "0.1.0",
      bootId: undefined,
      specVersion: "3.4.0",
      startedAt: "2026-11-29T12:00:00.000Z",
      finishedAt: "2026-11-29T12:00:01.000Z",
      ok: false,
      stages: [
        { name: "mount", startedAt: "x", durationMs: 1.5, ok: true, actions: [] },
        { name: "files", startedAt: "y", durationMs: 100, ok: false, error: "line one\nline two", actions },
      ],
    };
    const pieces = [...reportBytes(report)];
    assert.ok(pieces.length > 5, "a big report comes in several pieces");
    assert.equal(Buffer.concat(pieces).toString("utf8"), JSON.stringify(report, null, 2) + "\n");
    const small: FlintReport = { ...report, stages: [] };
    assert.equal(Buffer.concat([...reportBytes(small)]).toString("utf8"), JSON.stringify(small, null, 2) + "\n");
  });
});
