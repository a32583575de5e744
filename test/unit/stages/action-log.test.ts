import { strict as assert } from "node:assert";
import { ActionLog } from "../../../agent/stages/action-log";
import type { Action } from "../../../agent/stages/context";

/** Pushes every action one at a time (as the stages do) and checks the log gives each back as pushed, in order and out of order. */
function roundTrip(pushed: Action[]): ActionLog {
  const log = new ActionLog();
  for (const action of pushed) log.push(action);
  assert.equal(log.length, pushed.length);
  assert.deepEqual(log.toArray(), pushed);
  assert.deepEqual([...log], pushed);
  // Backwards and by strides: each read finds its own block, not the one read before.
  for (let i = pushed.length - 1; i >= 0; i -= 7) assert.deepEqual(log.at(i), pushed[i], `action ${i}`);
  for (let i = 0; i < pushed.length; i += 997) assert.deepEqual(log.at(i), pushed[i], `action ${i}`);
  return log;
}

describe("a stage's action log", () => {
  it("gives back every action as pushed, whatever the text of its target, across many blocks and pages", () => {
    const pushed: Action[] = [];
    for (let i = 0; i < 40_000; i++) {
      const target = i % 3 === 0 ? `/etc/é☃😀-${i}` : i % 3 === 1 ? `/${"x".repeat(i % 700)}` : "";
      pushed.push(i % 2 ? { kind: "create", target, detail: "mode=0644 owner=0:0" } : { kind: "mkdir", target });
    }
    roundTrip(pushed);
  });

  it("keeps apart no detail, an undefined detail and an empty one", () => {
    const pushed: Action[] = [
      { kind: "mkdir", target: "/a" },
      { kind: "mkdir", target: "/b", detail: undefined },
      { kind: "mkdir", target: "/c", detail: "" },
      { kind: "mkdir", target: "", detail: "" },
    ];
    const back = roundTrip(pushed).toArray();
    assert.ok(!("detail" in back[0]!));
    assert.ok("detail" in back[1]! && back[1].detail === undefined);
  });

  it("fills blocks to their last byte with targets that are never split, multi-byte characters included", () => {
    // 64 KiB blocks: targets of 1 to 4 bytes a character that straddle each block's end.
    const pushed: Action[] = [];
    for (let i = 0; i < 30_000; i++) {
      const char = ["a", "é", "☃", "😀"][i % 4]!;
      pushed.push({ kind: "create", target: char.repeat(1 + (i % 37)) + `-${i}`, detail: i % 5 ? "mode=0644 owner=0:0" : undefined });
    }
    roundTrip(pushed);
  });

  it("gives a target longer than a block a block of its own, between ordinary ones", () => {
    const long = (n: number, c: string) => c.repeat(n);
    const pushed: Action[] = [
      { kind: "create", target: "/first" },
      { kind: "create", target: long(64 * 1024, "x") },
      { kind: "create", target: "" },
      { kind: "create", target: long(100_000, "é"), detail: "big" },
      { kind: "create", target: long(64 * 1024 + 1, "y") },
      { kind: "create", target: "/after" },
    ];
    for (let i = 0; i < 5000; i++) pushed.push({ kind: "link", target: `/l/${i}`, detail: `-> ${long(i % 50, "☃")}` });
    pushed.push({ kind: "create", target: long(200_000, "z"), detail: `-> ${long(70_000, "w")}` });
    pushed.push({ kind: "create", target: "/last", detail: "mode=0644 owner=0:0" });
    roundTrip(pushed);
  });

  it("keeps many distinct details (one a link) as well as the few that repeat", () => {
    const pushed: Action[] = [];
    for (let i = 0; i < 50_000; i++) {
      if (i % 4 === 0) pushed.push({ kind: "link", target: `/links/link-${i}`, detail: `-> ../dir-${i % 97}/file-${i} ☃` });
      else if (i % 4 === 1) pushed.push({ kind: "link", target: "", detail: `-> ${i}` });
      else pushed.push({ kind: "create", target: `/dir-${i % 97}/file-${i}`, detail: `mode=0${(i % 8) + 640} owner=${i % 3}:0` });
    }
    roundTrip(pushed);
  });

  it("takes several actions at once and counts them", () => {
    const log = new ActionLog();
    assert.equal(log.push({ kind: "a", target: "/1" }, { kind: "b", target: "/2", detail: "d" }), 2);
    assert.equal(log.push(), 2);
    assert.deepEqual(log.toArray(), [{ kind: "a", target: "/1" }, { kind: "b", target: "/2", detail: "d" }]);
    assert.throws(() => log.at(2), RangeError);
  });
});
