import { strict as assert } from "node:assert";
import { ActionLog } from "../../../agent/stages/action-log";
import type { Action } from "../../../agent/stages/context";

describe("a stage's action log", () => {
  it("gives back every action as pushed, whatever the text of its target, past many growths", () => {
    const log = new ActionLog();
    const pushed: Action[] = [];
    for (let i = 0; i < 20_000; i++) {
      const target = i % 3 === 0 ? `/etc/é☃😀-${i}` : i % 3 === 1 ? `/${"x".repeat(i % 700)}` : "";
      const action: Action = i % 2 ? { kind: "create", target, detail: "mode=0644 owner=0:0" } : { kind: "mkdir", target };
      pushed.push(action);
      log.push(action);
    }
    assert.equal(log.length, pushed.length);
    assert.deepEqual(log.toArray(), pushed);
    assert.deepEqual(log.at(3), pushed[3]);
  });
});
