// The checks across storage entries (agent/config/validate/nodes.ts) keep a
// big config's entries in a table of path hashes (PathTable), confirming a
// match by reading the path again: with hashes that collide everywhere,
// every problem is still found and named as with a Map of the paths (what a
// config held as objects uses), in a small config and in a big one's lists
// kept in the text.

import assert from "node:assert/strict";
import { ConfigInvalidError, formatIssue, parseConfig } from "../../../agent/config/index";
import { IssueList } from "../../../agent/config/issues";
import { BIG_CONFIG_BYTES } from "../../../agent/config/limits";
import { ItemSpans, keptInText, listInText } from "../../../agent/config/text-list";
import type { Storage } from "../../../agent/config/types";
import { hashPath, PathTable, validateNodes, type PathHash } from "../../../agent/config/validate/nodes";

/** Every path with one hash: each lookup compares paths along the whole chain. */
const allCollide: PathHash = () => 7;
/** Three hashes, in the last slots, so chains interleave and wrap around the table. */
const fewBuckets: PathHash = (path) => -1 - (path.length % 3);
const HASHES: [string, PathHash][] = [
  ["the default hash", hashPath],
  ["a hash that maps every path alike", allCollide],
  ["a hash with few values", fewBuckets],
];

describe("PathTable", () => {
  for (const [name, hash] of HASHES) {
    it(`finds each path and no other, growing past the expected size, with ${name}`, () => {
      const paths = Array.from({ length: 300 }, (_, i) => `/etc/d${i % 7}/f${i}`);
      let reads = 0;
      const table = new PathTable((code) => (reads++, paths[code]!), 4, hash);
      paths.forEach((p, i) => assert.equal(table.addIfAbsent(p, i), undefined, p));
      assert.equal(table.size, paths.length);
      paths.forEach((p, i) => assert.equal(table.get(p), i, p));
      paths.forEach((p, i) => assert.equal(table.addIfAbsent(p, i + 1000), i, p));
      assert.equal(table.size, paths.length);
      for (const absent of ["/etc/d1", "/etc/d1/f2x", "/", "", "/etc/d0/f300"]) assert.equal(table.has(absent), false, absent);
      // The default hash reads a path again only for the entry that has it.
      if (hash === hashPath) {
        reads = 0;
        paths.forEach((p) => table.get(p));
        for (let i = 0; i < 1000; i++) table.get(`/absent/${i}`);
        assert.equal(reads, paths.length);
      }
    });
  }
});

// Each of the node rules broken at least once, with paths that share prefixes and lengths.
const FILES = [
  { path: "/a" },
  { path: "/d/f" },
  { path: "/a" }, // the same path again
  { path: "/a/b" }, // under the file /a
  { path: "/l/x/y" }, // under the link /l
  { path: "/f2" },
  {},
];
const DIRECTORIES = [{ path: "/d" }, { path: "/a" }, { path: "/d" }, { path: "/l/x" }, { path: "/e" }];
const LINKS = [
  { path: "/l", target: "/d/f" },
  { path: "/h", target: "/d", hard: true },
  { path: "/d/h", target: "../e", hard: true },
  { path: "/d/g", target: "f", hard: true },
  { path: "/f2", target: "/x" },
  { path: "/d", target: "/y" },
];
const EXPECTED = [
  'storage.files.2.path: duplicate path "/a" (already used by storage.files.0)',
  'storage.directories.1.path: path "/a" is both a file (storage.files.0) and a directory',
  'storage.directories.2.path: duplicate path "/d" (already used by storage.directories.0)',
  'storage.links.4.path: path "/f2" is both a file (storage.files.5) and a link',
  'storage.links.5.path: path "/d" is both a directory (storage.directories.0) and a link',
  'storage.files.3.path: parent "/a" is a file at storage.files.0, not a directory',
  'storage.files.4.path: parent "/l" is a link (writing through links defined in the same config is not allowed) at storage.links.0, not a directory',
  'storage.directories.3.path: parent "/l" is a link (writing through links defined in the same config is not allowed) at storage.links.0, not a directory',
  "storage.links.1.target: a hard link cannot point to a directory (/d)",
  "storage.links.2.target: a hard link cannot point to a directory (../e)",
];

function nodeErrors(s: Storage, hash?: PathHash): string[] {
  const issues = new IssueList();
  const found = validateNodes({ issues, minor: 4 }, s, ["storage"], hash);
  for (const p of ["/a", "/d", "/l/x", "/d/g", "/f2"]) assert.ok(found.has(p), p);
  for (const p of ["/", "/x", "/a/b/c", "/d/f/", ""]) assert.ok(!found.has(p), p);
  return issues.items.filter((i) => i.severity === "error").map((i) => `${i.path.join(".")}: ${i.message}`);
}

/** `items` as a big config keeps them: spans of a text longer than BIG_CONFIG_BYTES (text-list.ts). */
function keptList(items: unknown[]): unknown[] {
  let text = `{"pad": "${"x".repeat(BIG_CONFIG_BYTES)}", "list": [`;
  const starts: number[] = [];
  const ends: number[] = [];
  items.forEach((item, i) => {
    if (i > 0) text += ", ";
    starts.push(text.length);
    text += JSON.stringify(item);
    ends.push(text.length);
  });
  text += "]}";
  return listInText(new ItemSpans(text, Int32Array.from(starts), Int32Array.from(ends), "list"));
}

describe("the checks across files, directories and links", () => {
  const small = { files: FILES, directories: DIRECTORIES, links: LINKS } as Storage;
  const big = { files: keptList(FILES), directories: keptList(DIRECTORIES), links: keptList(LINKS) } as Storage;

  const chosen: [string, PathHash | undefined][] = [["the table the lists call for (a Map for objects, the default hash for lists in the text)", undefined]];
  for (const [name, hash] of [...chosen, ...HASHES]) {
    it(`names every problem with ${name}, in a small config and in a big one's lists`, () => {
      assert.deepEqual(nodeErrors(small, hash), EXPECTED);
      assert.ok(keptInText(big.files));
      assert.deepEqual(nodeErrors(big, hash), EXPECTED);
    });
  }

  it("gives the same errors through parseConfig, small and over BIG_CONFIG_BYTES", () => {
    const pad = { path: "/pad", contents: { source: `data:,${"x".repeat(BIG_CONFIG_BYTES)}` } };
    const errors = (files: unknown[]): string[] => {
      const text = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files, directories: DIRECTORIES, links: LINKS } });
      try {
        parseConfig(text);
      } catch (e) {
        if (e instanceof ConfigInvalidError) return e.errors.map((i) => formatIssue({ ...i, line: undefined }));
        throw e;
      }
      assert.fail("the config was accepted");
    };
    // The file without a path is left out: a missing path is the typed reader's error.
    const files = FILES.filter((f) => f.path);
    // parseConfig lists issues in the order of the document.
    const inDocument = errors(files);
    assert.deepEqual([...inDocument].sort(), [...EXPECTED].sort());
    assert.deepEqual(errors([...files, pad]), inDocument);
  });
});
