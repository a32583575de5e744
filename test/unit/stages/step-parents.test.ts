import { strict as assert } from "node:assert";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { openDirectory, type RootDir } from "../../../agent/root/resolve";
import { StepParents } from "../../../agent/stages/files/step-parents";
import { makeTempRoot, type TempRoot } from "../../helpers/root";

describe("the parents of one step of entries", () => {
  let t: TempRoot;
  let walks: number;
  /** Directories closed so far (descriptor numbers are reused, so this is what says one was closed). */
  let closed: Set<RootDir>;
  const isOpen = (dir: RootDir): boolean => !closed.has(dir);
  const walker = (path: string) => (): RootDir => {
    walks++;
    const dir = openDirectory(t.root, path).dir!;
    const close = dir.close.bind(dir);
    dir.close = () => {
      closed.add(dir);
      close();
    };
    return dir;
  };
  beforeEach(() => {
    t = makeTempRoot();
    walks = 0;
    closed = new Set();
    for (let i = 0; i < 3; i++) mkdirSync(join(t.root, `d${i}`));
  });
  afterEach(() => t.cleanup());

  it("walks a parent once for every entry of the step that is written into it", () => {
    const parents = new StepParents();
    const a = parents.acquire("/d0", walker("/d0"))!;
    const b = parents.acquire("/d0", walker("/d0"))!;
    assert.equal(walks, 1);
    assert.equal(a, b);
    assert.equal(a.rootPath, "/d0");
    parents.closeAll();
    assert.equal(isOpen(a), false);
  });

  it("keeps no missing parent (a plan's), so the next entry looks again", () => {
    const parents = new StepParents();
    assert.equal(parents.acquire("/none", () => (walks++, undefined)), undefined);
    assert.equal(parents.acquire("/none", () => (walks++, undefined)), undefined);
    assert.equal(walks, 2);
  });

  it("holds one directory: the next parent closes the one before, which is walked again if it comes back", () => {
    const parents = new StepParents();
    const d0 = parents.acquire("/d0", walker("/d0"))!;
    const d1 = parents.acquire("/d1", walker("/d1"))!;
    assert.equal(isOpen(d0), false);
    assert.equal(isOpen(d1), true);
    const again = parents.acquire("/d0", walker("/d0"))!;
    assert.equal(walks, 3);
    parents.closeAll();
    assert.equal(isOpen(again), false);
  });
});
