import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import type { FlintError } from "../../../agent/errors";
import { openDirectory, type RootDir } from "../../../agent/root/resolve";
import { CommitBatch, StagedFile, TEMP_PREFIX, stageFile, tempSymlinkSync } from "../../../agent/root/write";
import { syncFilesystem } from "../../../agent/system/sync";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";

/** The real `sync -f`, noting what each directory held when it ran. */
function watchedSync(dirs: string[], seen: string[][]): (dir: RootDir) => Promise<void> {
  return async (dir) => {
    seen.push(dirs.flatMap((d) => readdirSync(d).map((n) => join(d, n))).sort());
    await syncFilesystem(dir.fd);
  };
}

const ROOT = { uid: 0, gid: 0 };
const staged = (dir: RootDir, text: string, mode = 0o644, owner = ROOT): string => stageFile(dir, text, mode, owner).name;

const isTemp = (path: string): boolean => path.split("/").pop()!.startsWith(TEMP_PREFIX);

describe("committing a batch of new files", () => {
  let t: TempRoot;
  let a: string;
  let b: string;
  // The directories held open, as the files stage holds each entry's parent.
  let A: RootDir;
  let B: RootDir;
  beforeEach(() => {
    t = makeTempRoot();
    a = join(t.root, "a");
    b = join(t.root, "b");
    mkdirSync(a);
    mkdirSync(b);
    A = openDirectory(t.root, "/a").dir!;
    B = openDirectory(t.root, "/b").dir!;
  });
  afterEach(() => {
    A.close();
    B.close();
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore);
    t.cleanup();
  });

  it("syncs the filesystem while only temporary names exist, then renames every file into place", async () => {
    const seen: string[][] = [];
    const batch = new CommitBatch(t.root, watchedSync([a, b], seen));
    batch.add(A, staged(A, "one", 0o640), "one");
    batch.add(B, staged(B, "two", 0o4755, { uid: 1234, gid: 5678 }), "two");
    batch.add(A, tempSymlinkSync(A, "one", { uid: 1234, gid: 0 }), "link");
    assert.equal(batch.size, 3);
    await batch.flush();

    // One filesystem: one sync, before any real name existed.
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.length, 3);
    assert.ok(seen[0]!.every(isTemp), `a real name existed before the sync: ${seen[0]}`);

    assert.deepEqual(readdirSync(a).sort(), ["link", "one"]);
    assert.deepEqual(readdirSync(b), ["two"]);
    assert.equal(readFileSync(join(a, "one"), "utf8"), "one");
    const two = lstatSync(join(b, "two"));
    assert.deepEqual([two.mode & 0o7777, two.uid, two.gid], [0o4755, 1234, 5678], "setuid survives the chown");
    assert.equal(lstatSync(join(a, "one")).mode & 0o7777, 0o640);
    assert.equal(readlinkSync(join(a, "link")), "one");
    assert.equal(lstatSync(join(a, "link")).uid, 1234);
    assert.equal(batch.size, 0);
  });

  it("renames in the order the files were added: the later of two for one path wins", async () => {
    const batch = new CommitBatch(t.root);
    batch.add(A, staged(A, "first"), "f", 5);
    batch.add(A, staged(A, "second"), "f", 6);
    assert.equal(batch.bytes, 11, "the batch counts the bytes it holds");
    await batch.flush();
    assert.equal(batch.bytes, 0);
    assert.deepEqual(readdirSync(a), ["f"]);
    assert.equal(readFileSync(join(a, "f"), "utf8"), "second");
  });

  it("one rule: a syncfs before each flush's renames, another for the renames when it settles, none when nothing changed", async () => {
    const seen: string[][] = [];
    const batch = new CommitBatch(t.root, watchedSync([a, b], seen));
    batch.add(A, staged(A, "1"), "1");
    await batch.flush();
    assert.equal(seen.length, 1);
    batch.add(B, staged(B, "2"), "2");
    await batch.flush();
    // The second sync ran once b's temp file was complete, and after a's rename.
    assert.deepEqual(seen[1]!.filter((p) => !isTemp(p)), [join(a, "1")]);
    await batch.settle();
    assert.equal(seen.length, 3, "settle syncs the last renames");
    assert.deepEqual(seen[2], [join(a, "1"), join(b, "2")]);
    await batch.settle();
    assert.equal(seen.length, 3, "nothing left to sync");
    await new CommitBatch(t.root, watchedSync([a, b], seen)).flush();
    assert.equal(seen.length, 3, "an empty batch syncs nothing");
  });

  it("a failed sync renames nothing and removes the temporary files; the next flush syncs again", async () => {
    let fail = true;
    const syncs: number[] = [];
    const batch = new CommitBatch(t.root, async (dir) => {
      syncs.push(dir.fd);
      if (fail) throw new Error("sync failed");
      await syncFilesystem(dir.fd);
    });
    batch.add(A, staged(A, "x"), "x");
    await assert.rejects(batch.flush(), /sync failed/);
    assert.deepEqual(readdirSync(a), []);
    fail = false;
    batch.add(A, staged(A, "y"), "y");
    await batch.flush();
    assert.equal(syncs.length, 2);
    assert.deepEqual(readdirSync(a), ["y"]);
  });

  it("when a rename fails, names the file, keeps the ones before it and removes every temporary file", async () => {
    const batch = new CommitBatch(t.root);
    mkdirSync(join(a, "busy"));
    mkdirSync(join(a, "busy", "child"));
    batch.add(A, staged(A, "ok"), "ok");
    batch.add(A, staged(A, "x"), "busy");
    batch.add(A, staged(A, "later"), "later");
    await assert.rejects(batch.flush(), (e: FlintError) => e.message.includes("cannot move the new file into place") && e.where === "/a/busy");
    assert.deepEqual(readdirSync(a).sort(), ["busy", "ok"]);
    batch.discard();
  });

  it("discard removes what is pending and renames nothing", () => {
    const batch = new CommitBatch(t.root);
    batch.add(A, staged(A, "x"), "x");
    batch.discard();
    assert.deepEqual(readdirSync(a), []);
    assert.equal(batch.size, 0);
  });

  it("a staged file is written, read back, owned and moded through its descriptor: swapping its name changes nothing outside", () => {
    const file = new StagedFile(A);
    file.write("fetched");
    // Another process swaps the temporary name for a symlink to a file outside the root.
    const outside = join(t.canary, "victim");
    const name = join(a, file.name);
    rmSync(name);
    symlinkSync(outside, name);
    file.write(" more");
    file.finish(0o2755, { uid: 42, gid: 43 });
    assert.equal(file.digest(), createHash("sha256").update("fetched more").digest("hex"));
    assert.equal(file.size, 12);
    file.discard();
    assert.deepEqual(readdirSync(a), []);
  });
});
