// A big config's storage lists spooled (agent/config/item-list.ts): they read
// back as the items written, and the config they are part of reads,
// validates and merges as the same config held in arrays would.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadConfig } from "../../../agent/commands/apply";
import { locateInSources, mergeConfigs, parseConfig, type ConfigIssue } from "../../../agent/config/index";
import { lineColumnAt } from "../../../agent/config/locate";
import { ItemSpool, SpooledList } from "../../../agent/config/item-list";
import { BIG_CONFIG_BYTES } from "../../../agent/config/limits";
import { parseCachedConfig } from "../../../agent/config/text";
import type { Config } from "../../../agent/config/types";
import { forgetSecrets } from "../../../agent/secrets";
import { rejected } from "./helpers";

/** Every issue of a config that is refused. */
const issuesOf = (config: string): ConfigIssue[] => rejected(config).issues;

const spoolFiles = () => readdirSync(tmpdir()).filter((name) => name.startsWith("flint-items-"));

describe("a spooled list", () => {
  const items = [{ path: "/a", mode: 420 }, { path: "/b" }, { path: "/c", contents: { source: "data:,x" } }, { path: "/é/☃/😀" }];

  it("reads back the items written, by index and in order, each read a fresh object", () => {
    const before = spoolFiles();
    const spool = new ItemSpool<unknown>();
    for (const item of items) spool.push(item);
    const list = spool.finish();
    // The file is unlinked at once: nothing is left behind, whatever happens next.
    assert.deepEqual(spoolFiles(), before);
    assert.equal(list.length, 4);
    assert.deepEqual(list.at(1), { path: "/b" });
    assert.deepEqual(list.at(3), items[3]);
    assert.equal(list.at(4), undefined);
    assert.equal(list.at(-1), undefined);
    assert.notEqual(list.at(0), list.at(0));
    assert.deepEqual([...list], items);
    assert.equal(JSON.stringify(list), JSON.stringify(items));
  });

  it("holds items bigger than its chunks, and many of them, read in any order", () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({ path: `/srv/${i}`, contents: { source: `data:,${"é".repeat(i % 7 === 0 ? 40_000 : i % 50)}` } }));
    const spool = new ItemSpool<unknown>();
    for (const item of many) spool.push(item);
    const list = spool.finish();
    assert.deepEqual([...list], many);
    for (const i of [4999, 0, 2500, 7, 14, 4998, 3]) assert.deepEqual(list.at(i), many[i]);
  });
});

describe("a config over BIG_CONFIG_BYTES", () => {
  // The padding is one more file at the end of the list, last in the text, so the rest keeps its lines and columns.
  const padFile = { path: "/pad", contents: { source: `data:,${"x".repeat(BIG_CONFIG_BYTES)}` } };
  const text = (files: unknown[], extra = {}) =>
    JSON.stringify({ ignition: { version: "3.4.0" }, storage: { directories: [{ path: "/d", mode: 493 }], links: [{ path: "/l", target: "/d/f" }], ...extra, files } }, null, 1);
  const small = (files: unknown[], extra = {}) => text(files, extra);
  const big = (files: unknown[], extra = {}) => text([...files, padFile], extra);

  it("spools its storage lists, equal to the arrays a small config gets", () => {
    const files = [{ path: "/etc/a", mode: 420, contents: { source: "data:,a" } }, { path: "/etc/b", contents: { source: "" } }];
    const s = parseConfig(small(files)).config;
    const b = parseConfig(big(files)).config;
    assert.ok(b.storage!.files instanceof SpooledList && b.storage!.directories instanceof SpooledList && b.storage!.links instanceof SpooledList);
    assert.ok(Array.isArray(s.storage!.files));
    assert.deepEqual([...b.storage!.files!].slice(0, -1), s.storage!.files);
    assert.deepEqual([...b.storage!.directories!], s.storage!.directories);
    assert.deepEqual([...b.storage!.links!], s.storage!.links);
    // An empty source means empty contents, in both.
    assert.equal(b.storage!.files!.at(1)!.contents!.source, "data:,");
  });

  it("reports the same errors and warnings, at the same lines and columns", () => {
    const files = [
      { path: "/etc/a", mode: "420" },
      { path: "etc/relative" },
      { path: "/etc/a" },
      { path: "/etc/c", unknownKey: 1 },
      { path: "/l/under-a-link" },
    ];
    const withDuplicateKey = (config: string) => config.replace('"path": "/etc/c"', '"path": "/etc/x", "path": "/etc/c"');
    const links = { links: [{ path: "/l", target: "/d/f" }, { path: "/h", target: "/d", hard: true }] };
    const s = issuesOf(withDuplicateKey(small(files, links)));
    const b = issuesOf(withDuplicateKey(big(files, links)));
    assert.equal(s.length, 7, JSON.stringify(s));
    assert.deepEqual(b, s);
  });

  it("merges under and over another config", () => {
    const files = [{ path: "/etc/a", contents: { source: "data:,a" } }];
    const b = parseConfig(big(files)).config;
    const other: Config = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/a", mode: 384 }, { path: "/etc/z" }] } };
    const over = mergeConfigs(b, other);
    assert.equal(over.storage!.files!.length, 3);
    assert.deepEqual(over.storage!.files!.at(0), { path: "/etc/a", contents: { source: "data:,a" }, mode: 384 });
    assert.equal(over.storage!.files!.at(2)!.path, "/etc/z");
    assert.deepEqual([...mergeConfigs(other, b).storage!.links!], [{ path: "/l", target: "/d/f" }]);
  });

  it("reports a syntax error in a list's items where a small config's is reported", () => {
    const files = [{ path: "/etc/a" }, { path: "/etc/b" }];
    for (const broken of [
      (t: string) => t.replace('"path": "/etc/b"', '"path": "/etc/b",'),
      (t: string) => t.replace(/\},(\s*\{\s*"path": "\/etc\/b")/, "}$1"),
      (t: string) => t.replace(/\},(\s*\{\s*"path": "\/etc\/b")/, "},,$1"),
      (t: string) => t.replace('"files": [', '"files": [,'),
      (t: string) => t.replace('"/etc/b"', '"/etc/\tb"'),
    ]) {
      assert.notEqual(broken(small(files)), small(files));
      const s = issuesOf(broken(small(files)));
      assert.match(s[0]!.message, /invalid JSON/);
      assert.deepEqual(issuesOf(broken(big(files))), s);
    }
  });

  it("takes the last of a list given twice, as a small config does", () => {
    const twice = (t: string) => t.replace('"directories": [', '"files": [{"path": "/etc/first"}], "directories": [');
    const files = [{ path: "/etc/a" }];
    const s = parseConfig(twice(small(files)));
    const b = parseConfig(twice(big(files)));
    assert.deepEqual([...b.config.storage!.files!].slice(0, -1), s.config.storage!.files);
    assert.deepEqual(b.warnings, s.warnings);
    assert.equal(s.warnings.length, 1);
  });
});

describe("a big config applied from a file", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "flint-item-list-"))));
  after(() => {
    forgetSecrets();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is not held as objects: the heap grows by a small part of its text", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const many = Array.from({ length: 30_000 }, (_, i) => ({ path: `/srv/d${i % 300}/f${i}`, mode: 420, contents: { source: `data:,${encodeURIComponent(`line ${i} of a file that is long enough to count\n`.repeat(3))}` } }));
    const unit = { name: "a.service", contents: "# a unit" };
    const text = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: many }, systemd: { units: [unit] } });
    assert.ok(text.length > BIG_CONFIG_BYTES);
    const path = join(dir, "many.ign");
    writeFileSync(path, text);
    // Once before: the code compiled on the way (bytecode is heap too) is not the config's.
    await loadConfig("apply", path);
    gc();
    const before = process.memoryUsage().heapUsed;
    const { config } = await loadConfig("apply", path);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < text.length / 4, `the heap grew by ${grown} bytes for a ${text.length}-byte config`);
    assert.ok(config.storage!.files instanceof SpooledList);
    assert.equal(config.systemd!.units![0]!.contents, unit.contents);
    assert.deepEqual(config.storage!.files!.at(29_999), many[29_999]);
  });
});

describe("a big config's error found at stage time", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "flint-item-list-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is still placed at its line and column: the file is read again", async () => {
    const pad = { path: "/pad", contents: { source: `data:,${"x".repeat(BIG_CONFIG_BYTES)}` } };
    const text = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/a" }, { path: "/etc/b" }, pad] } }, null, 1);
    const path = join(dir, "b.ign");
    writeFileSync(path, text);
    const { sources } = await loadConfig("apply", path);
    assert.deepEqual(locateInSources(sources, ["storage", "files", 1, "path"])?.position, lineColumnAt(text, text.indexOf('"/etc/b"')));
  });
});

describe("the cached config of a boot", () => {
  it("has a big config's storage lists spooled, equal to the text's", () => {
    const files = Array.from({ length: 3 }, (_, i) => ({ path: `/f${i}`, contents: { source: `data:,${"x".repeat(BIG_CONFIG_BYTES / 2)}` } }));
    const cached = { ignition: { version: "3.6.0" }, storage: { files, links: [{ path: "/l", target: "/f0" }] } };
    const config = parseCachedConfig(JSON.stringify(cached), tmpdir()) as Config;
    assert.ok(config.storage!.files instanceof SpooledList && config.storage!.links instanceof SpooledList);
    assert.equal(JSON.stringify(config), JSON.stringify(cached));
    assert.throws(() => parseCachedConfig(JSON.stringify(cached).replace('"/l"', '"/l" "/m"'), tmpdir()), /invalid JSON/);
  });
});
