import assert from "node:assert/strict";
import { formatReport, reportBytes, type FlintReport, type StageRecord } from "../../agent/report";
import { ActionLog, actionsOf, attachActions, logOf } from "../../agent/stages/action-log";
import type { Action } from "../../agent/stages/context";

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

describe("a stage's action log", () => {
  const pushed = (n: number): Action[] =>
    Array.from({ length: n }, (_, i) =>
      i % 3 === 0 ? { kind: "mkdir", target: `/d/${i}` } : i % 3 === 1 ? { kind: "create", target: `/etc/f-${i} "q" é`, detail: "mode=0644 owner=0:0" } : { kind: "mount", target: `/m/${i}`, detail: undefined },
    );
  const reportOf = (stages: StageRecord[]): FlintReport => ({ format: 1, flintVersion: "0.1.0", startedAt: "a", finishedAt: "b", ok: true, stages });

  for (const n of [0, 3, 15000]) {
    it(`writes the same report text as a list of the actions would (${n} actions)${n > 10_000 ? ", without making that list" : ""}`, () => {
      const actions = pushed(n);
      const log = new ActionLog();
      log.push(...actions.slice(0, 2));
      for (const a of actions.slice(2)) log.push(a);
      const record = attachActions<StageRecord>({ name: "files", startedAt: "y", durationMs: 1, ok: true, actions: [] }, log);
      const plain: StageRecord = { name: "files", startedAt: "y", durationMs: 1, ok: true, actions };
      const text = Buffer.concat([...reportBytes(reportOf([{ name: "mount", startedAt: "x", durationMs: 1, ok: true, actions: [] }, record]))]).toString("utf8");
      // A big report is streamed from the log (a small one is one JSON.stringify, which reads the list).
      if (n > 10_000) assert.equal(logOf(record), log, "the report was written from the log");
      assert.equal(actionsOf(record).length, n);
      assert.equal(text, JSON.stringify(reportOf([{ name: "mount", startedAt: "x", durationMs: 1, ok: true, actions: [] }, plain]), null, 2) + "\n");
      // Read as a list, the actions are what was pushed (a detail key given as undefined stays a key).
      assert.deepEqual(record.actions, actions);
      assert.equal(logOf(record), undefined, "made into a list once, kept as one");
      assert.equal(record.actions, record.actions);
      assert.deepEqual(Object.keys(record), ["name", "startedAt", "durationMs", "ok", "actions"]);
    });
  }

  it("lists the actions for people from the log", () => {
    const log = new ActionLog();
    log.push({ kind: "create", target: "/etc/a", detail: "mode=0644 owner=0:0" }, { kind: "mkdir", target: "/d" });
    const record = attachActions<StageRecord>({ name: "files", startedAt: "y", durationMs: 1, ok: true, actions: [] }, log);
    assert.match(formatReport(reportOf([record])), /stage files: ok in 1\.0 ms, 2 action\(s\)\n  create \/etc\/a mode=0644 owner=0:0\n  mkdir \/d\n$/);
    assert.equal(logOf(record), log);
  });
});
