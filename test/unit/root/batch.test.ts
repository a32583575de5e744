import { strict as assert } from "node:assert";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { FlintError } from "../../../agent/errors";
import { openDirectory, type RootDir } from "../../../agent/root/resolve";
import { CommitBatch, TEMP_PREFIX, finishTempFileSync, syncDirectory, tempSymlinkSync, writeTempFileSync } from "../../../agent/root/write";
import { syncFilesystem } from "../../../agent/system/sync";
import { makeTempRoot, snapshotTree, type TempRoot } from "../../helpers/root";

/** The real `sync -f`, noting what each directory held when it ran. */
function watchedSync(dirs: string[], seen: string[][]): (path: string) => Promise<void> {
  return async (path) => {
    seen.push(dirs.flatMap((d) => readdirSync(d).map((n) => join(d, n))).sort());
    await syncFilesystem(path);
  };
}

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

  it("syncs what is pending ahead of the flush, which then syncs only what came after; a failed early sync is made again by the flush", async () => {
    const seen: string[][] = [];
    const sync = watchedSync([a, b], seen);
    let failOnce = true;
    const batch = new CommitBatch(t.root, async (path) => {
      if (failOnce) {
        failOnce = false;
        throw new Error("sync failed");
      }
      await sync(path);
    });
    batch.add(A, writeTempFileSync(A, Buffer.from("one"), 0o644, { uid: 0, gid: 0 }), "one");
    await assert.rejects(batch.syncPending(), /sync failed/);
    await batch.syncPending();
    assert.equal(seen.length, 1, "the failed early sync was made again");
    await batch.flush();
    assert.equal(seen.length, 1, "nothing new since the early sync: the flush syncs nothing");
    batch.add(B, writeTempFileSync(B, Buffer.from("two"), 0o644, { uid: 0, gid: 0 }), "two");
    await batch.flush();
    assert.equal(seen.length, 2, "what came after is synced by its flush");
    assert.ok(seen[1]!.some((p) => isTemp(p) && p.startsWith(b)), "before its rename");
    assert.deepEqual([readdirSync(a), readdirSync(b)], [["one"], ["two"]]);
  });

  it("syncs the filesystem while only temporary names exist, then renames every file into place", async () => {
    const seen: string[][] = [];
    const batch = new CommitBatch(t.root, watchedSync([a, b], seen));
    batch.add(A, writeTempFileSync(A, Buffer.from("one"), 0o640, { uid: 0, gid: 0 }), "one");
    batch.add(B, writeTempFileSync(B, Buffer.from("two"), 0o4755, { uid: 1234, gid: 5678 }), "two");
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
    const batch = new CommitBatch(t.root, syncFilesystem);
    batch.add(A, writeTempFileSync(A, Buffer.from("first"), 0o644, { uid: 0, gid: 0 }), "f", { bytes: 5, regularFile: true });
    batch.add(A, writeTempFileSync(A, Buffer.from("second"), 0o644, { uid: 0, gid: 0 }), "f", { bytes: 6, regularFile: true });
    assert.equal(batch.bytes, 11, "the batch counts the bytes it holds");
    await batch.flush();
    assert.equal(batch.bytes, 0);
    assert.deepEqual(readdirSync(a), ["f"]);
    assert.equal(readFileSync(join(a, "f"), "utf8"), "second");
  });

  it("syncs the renames of one flush with the next flush, or with settle (an fsync of each directory that got one)", async () => {
    const seen: string[][] = [];
    const dirSyncs: string[] = [];
    const batch = new CommitBatch(t.root, watchedSync([a, b], seen), {
      syncDirs: async (dirs) => {
        for (const dir of dirs) {
          dirSyncs.push(dir.rootPath);
          syncDirectory(dir);
        }
      },
    });
    batch.add(A, writeTempFileSync(A, Buffer.from("1"), 0o644, { uid: 0, gid: 0 }), "1");
    await batch.flush();
    batch.add(B, writeTempFileSync(B, Buffer.from("2"), 0o644, { uid: 0, gid: 0 }), "2");
    await batch.flush();
    // The second sync ran once b's temp file was complete, and after a's rename.
    assert.deepEqual(seen[1]!.filter((p) => !isTemp(p)), [join(a, "1")]);
    assert.deepEqual(dirSyncs, []);
    await batch.settle();
    assert.deepEqual(dirSyncs, ["/b"], "settle syncs the directory of the last renames");
    assert.equal(seen.length, 2, "settle needs no syncfs for one directory");
    await batch.settle();
    assert.deepEqual(dirSyncs, ["/b"], "nothing left to sync");
    await new CommitBatch(t.root, watchedSync([a, b], seen)).flush();
    assert.equal(seen.length, 2, "an empty batch syncs nothing");
  });

  it("fsyncs a few regular files each instead of a syncfs; a symlink, or one file more, makes it a syncfs again", async () => {
    const seen: string[][] = [];
    const dirSyncs: string[] = [];
    const batch = new CommitBatch(t.root, watchedSync([a, b], seen), {
      fsyncAtMost: 2,
      syncDirs: async (dirs) => {
        for (const dir of dirs) dirSyncs.push(dir.rootPath);
      },
    });
    const file = (dir: RootDir, name: string): void => batch.add(dir, writeTempFileSync(dir, Buffer.from(name), 0o644, { uid: 0, gid: 0 }), name, { regularFile: true });
    file(A, "1");
    file(B, "2");
    await batch.flush();
    assert.equal(seen.length, 0, "two files: no syncfs");
    assert.deepEqual([readdirSync(a), readdirSync(b)], [["1"], ["2"]]);

    file(A, "3");
    file(A, "4");
    file(A, "5");
    await batch.flush();
    assert.equal(seen.length, 1, "three files: one syncfs");
    assert.ok(seen[0]!.filter(isTemp).length === 3, "before the renames");

    file(B, "6");
    batch.add(B, tempSymlinkSync(B, "6", { uid: 0, gid: 0 }), "7");
    await batch.flush();
    assert.equal(seen.length, 2, "a symlink: a syncfs");

    file(A, "8");
    await batch.flush();
    assert.equal(seen.length, 2, "one file after them: no syncfs");
    await batch.settle();
    assert.deepEqual(dirSyncs.sort(), ["/a", "/b"], "the renames since the last syncfs are settled, those of the fsynced flush among them");
  });

  it("when a rename fails, names the file, keeps the ones before it and removes every temporary file", async () => {
    const batch = new CommitBatch(t.root, syncFilesystem);
    mkdirSync(join(a, "busy"));
    mkdirSync(join(a, "busy", "child"));
    batch.add(A, writeTempFileSync(A, Buffer.from("ok"), 0o644, { uid: 0, gid: 0 }), "ok");
    batch.add(A, writeTempFileSync(A, Buffer.from("x"), 0o644, { uid: 0, gid: 0 }), "busy");
    batch.add(A, writeTempFileSync(A, Buffer.from("later"), 0o644, { uid: 0, gid: 0 }), "later");
    await assert.rejects(batch.flush(), (e: FlintError) => e.message.includes("cannot move the new file into place") && e.where === "/a/busy");
    assert.deepEqual(readdirSync(a).sort(), ["busy", "ok"]);
  });

  it("discard removes what is pending and renames nothing", () => {
    const batch = new CommitBatch(t.root, syncFilesystem);
    batch.add(A, writeTempFileSync(A, Buffer.from("x"), 0o644, { uid: 0, gid: 0 }), "x");
    batch.discard();
    assert.deepEqual(readdirSync(a), []);
    assert.equal(batch.size, 0);
  });

  it("gives a temporary file written elsewhere (a fetch) its owner, then its mode", async () => {
    const temp = writeTempFileSync(A, Buffer.from("fetched"), 0o600, { uid: 0, gid: 0 });
    finishTempFileSync(A, temp, 0o2755, { uid: 42, gid: 43 });
    const st = lstatSync(join(a, temp));
    assert.deepEqual([st.mode & 0o7777, st.uid, st.gid], [0o2755, 42, 43]);
  });
});
