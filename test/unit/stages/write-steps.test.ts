import { strict as assert } from "node:assert";
import type { Entry } from "../../../agent/stages/files/nodes";
import { byParent } from "../../../agent/stages/files/write-steps";

const file = (path: string): Entry => ({ kind: "file", node: { path }, where: path });

describe("the order entries of one step are written in", () => {
  it("puts the entries of one parent together, parents in the order they first come, entries in theirs", () => {
    const step = ["/a/1", "/b/1", "/c/1", "/a/2", "/b/2", "/a/3"].map(file);
    assert.deepEqual(byParent(step).map((e) => e.node.path), ["/a/1", "/a/2", "/a/3", "/b/1", "/b/2", "/c/1"]);
  });

  it("keeps a step whose entries all have parents of their own as it is", () => {
    const step = ["/a/1", "/b/1", "/c/1"].map(file);
    assert.equal(byParent(step), step);
  });
});
