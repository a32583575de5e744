// The checks across storage entries (agent/config/validate/nodes.ts): every
// problem found and named alike in lists held as arrays and in a big
// config's spooled lists (item-list.ts), and through parseConfig.

import assert from "node:assert/strict";
import { ConfigInvalidError, formatIssue, parseConfig } from "../../../agent/config/index";
import { IssueList } from "../../../agent/config/issues";
import { ItemSpool } from "../../../agent/config/item-list";
import { BIG_CONFIG_BYTES } from "../../../agent/config/limits";
import type { Storage } from "../../../agent/config/types";
import { validateNodes } from "../../../agent/config/validate/nodes";

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

function nodeErrors(s: Storage): string[] {
  const issues = new IssueList();
  const found = validateNodes({ issues, minor: 4 }, s, ["storage"]);
  for (const p of ["/a", "/d", "/l/x", "/d/g", "/f2"]) assert.ok(found.has(p), p);
  for (const p of ["/", "/x", "/a/b/c", "/d/f/", ""]) assert.ok(!found.has(p), p);
  return issues.items.filter((i) => i.severity === "error").map((i) => `${i.path.join(".")}: ${i.message}`);
}

/** `items` as a big config's list holds them: spooled (item-list.ts). */
function spooled(items: unknown[]): unknown {
  const spool = new ItemSpool<unknown>();
  for (const item of items) spool.push(item);
  return spool.finish();
}

describe("the checks across files, directories and links", () => {
  const small = { files: FILES, directories: DIRECTORIES, links: LINKS } as Storage;
  const big = { files: spooled(FILES), directories: spooled(DIRECTORIES), links: spooled(LINKS) } as Storage;

  it("names every problem, in lists held as arrays and in spooled ones", () => {
    assert.deepEqual(nodeErrors(small), EXPECTED);
    assert.deepEqual(nodeErrors(big), EXPECTED);
  });

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
