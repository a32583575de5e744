import { strict as assert } from "node:assert";
import type { Directory, File, Link } from "../../../agent/config/types";
import { FlintError } from "../../../agent/errors";
import { StorageEntries, type StorageLists } from "../../../agent/stages/files/entries";
import { applyOrder, byParent, stepEnd } from "../../../agent/stages/files/write-steps";

const paths = (entries: StorageEntries, ids: ArrayLike<number>): string[] => Array.from(ids, (id) => entries.entry(id).node.path);

/** The steps of `ordered`, as paths. */
function steps(entries: StorageEntries, ordered: Int32Array): string[][] {
  const out: string[][] = [];
  for (let start = 0; start < ordered.length; ) {
    const end = stepEnd(entries, ordered, start);
    out.push(paths(entries, ordered.subarray(start, end)));
    start = end;
  }
  return out;
}

const ids = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

describe("the order storage entries are written in", () => {
  const lists: StorageLists = {
    directories: [{ path: "/a/b/c" }, { path: "/a" }, { path: "/z" }] as Directory[],
    files: [{ path: "/a/b/c/f" }, { path: "/a/f" }, { path: "/z/f" }, { path: "/g" }] as File[],
    links: [{ path: "/a/h3", target: "/g", hard: true }, { path: "/h2", target: "/g", hard: true }, { path: "/a/l", target: "f" }, { path: "/h1", target: "/a/f", hard: true }, { path: "/a/b", target: "/z" }] as Link[],
  };

  it("numbers directories, then files, then links, and reads each one's item and JSON path again when asked", () => {
    const entries = new StorageEntries(lists);
    assert.equal(entries.count, 12);
    assert.deepEqual(
      [0, 2, 3, 6, 7, 11].map((id) => [entries.entry(id).kind, entries.entry(id).where, entries.entry(id).node.path]),
      [
        ["directory", "storage.directories.0", "/a/b/c"],
        ["directory", "storage.directories.2", "/z"],
        ["file", "storage.files.0", "/a/b/c/f"],
        ["file", "storage.files.3", "/g"],
        ["link", "storage.links.0", "/a/h3"],
        ["link", "storage.links.4", "/a/b"],
      ],
    );
  });

  it("puts shallower paths first, keeps the given order within a depth, and hard links last (by depth too)", () => {
    const entries = new StorageEntries(lists);
    assert.deepEqual(paths(entries, applyOrder(entries, ids(entries.count))), [
      "/a", "/z", "/g", "/a/f", "/z/f", "/a/l", "/a/b", "/a/b/c", "/a/b/c/f", "/h2", "/h1", "/a/h3",
    ]);
    // The given order, not the ids', within a depth (entries deferred past the accounts come behind).
    assert.deepEqual(paths(entries, applyOrder(entries, [5, 6, 2, 10, 4, 1, 8])), ["/g", "/z", "/a", "/z/f", "/a/f", "/h1", "/h2"]);
  });

  it("cuts the order into steps of one depth, each hard link a step of its own", () => {
    const entries = new StorageEntries(lists);
    assert.deepEqual(steps(entries, applyOrder(entries, ids(entries.count))), [
      ["/a", "/z", "/g"],
      ["/a/f", "/z/f", "/a/l", "/a/b"],
      ["/a/b/c"],
      ["/a/b/c/f"],
      ["/h2"],
      ["/h1"],
      ["/a/h3"],
    ]);
  });

  it("puts the entries of one parent together in a step, parents in the order they first come, entries in theirs", () => {
    const files = ["/a/1", "/b/1", "/c/1", "/a/2", "/b/2", "/a/3"].map((path) => ({ path })) as File[];
    const entries = new StorageEntries({ directories: [{ path: "/c" }] as Directory[], files });
    const step = applyOrder(entries, Int32Array.from([1, 2, 3, 4, 5, 6]));
    assert.deepEqual(paths(entries, byParent(entries, step)), ["/a/1", "/a/2", "/a/3", "/b/1", "/b/2", "/c/1"]);
  });

  it("keeps a step whose entries all have parents of their own as it is", () => {
    const entries = new StorageEntries({ files: ["/a/1", "/b/1", "/c/1"].map((path) => ({ path })) as File[] });
    const step = ids(3);
    assert.equal(byParent(entries, step), step);
  });

  it("checks every path before anything else, naming the entry", () => {
    const bad = { files: [{ path: "/ok" }, { path: "/x/../y" }] as File[], links: [{ path: "relative", target: "/ok" }] as Link[] };
    assert.throws(
      () => new StorageEntries(bad),
      (e: unknown) => e instanceof FlintError && e.where === "storage.files.1.path" && /must be clean/.test(e.message),
    );
  });

  it("reads each item of the config once to plan, and once more for each entry applied", () => {
    // As a big config's lists do: every read makes the item anew.
    let reads = 0;
    const files = new Proxy([] as File[], {
      get(target, key) {
        if (key === "length") return 1000;
        if (typeof key === "string" && /^\d+$/.test(key)) {
          reads++;
          return { path: `/d${Number(key) % 7}/f${key}` };
        }
        return Reflect.get(target, key);
      },
    });
    const entries = new StorageEntries({ files });
    assert.equal(reads, 1000);
    const entry = entries.entry(5);
    assert.equal(reads, 1001);
    assert.equal(entry.node.path, "/d5/f5");
    assert.equal(entries.parentCount, 7);
  });
});
