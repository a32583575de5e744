// A big config's storage lists kept as spans of its text (agent/config/text-list.ts):
// they read as arrays, and the config they are part of reads, validates and merges
// as the same config held in objects would.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadConfig } from "../../../agent/commands/apply";
import { locateInSources } from "../../../agent/config/index";
import { lineColumnAt } from "../../../agent/config/locate";
import { FlintError } from "../../../agent/errors";
import { forgetSecrets } from "../../../agent/secrets";
import { ConfigInvalidError, mergeConfigs, parseConfig, type ConfigIssue } from "../../../agent/config/index";
import { BIG_CONFIG_BYTES } from "../../../agent/config/limits";
import { ItemSpans, keptInText, listInText } from "../../../agent/config/text-list";
import type { Config } from "../../../agent/config/types";

/** The list JSON.parse would give for `items`, kept in a text that holds them among other things. */
function keptList(items: unknown[]): unknown[] {
  const parts = items.map((item) => JSON.stringify(item));
  let text = '{"before": 1, "list": [';
  const starts: number[] = [];
  const ends: number[] = [];
  parts.forEach((part, i) => {
    if (i > 0) text += ", ";
    starts.push(text.length);
    text += part;
    ends.push(text.length);
  });
  text += "]}";
  return listInText(new ItemSpans(text, Int32Array.from(starts), Int32Array.from(ends), "list"));
}

describe("a list kept in the config's text", () => {
  const items = [{ path: "/a", mode: 420 }, { path: "/b" }, { path: "/c", contents: { source: "data:,x" } }];

  it("reads as the array of its items", () => {
    const list = keptList(items);
    assert.ok(Array.isArray(list));
    assert.equal(list.length, 3);
    assert.deepEqual(list[1], { path: "/b" });
    assert.equal(list[3], undefined);
    assert.ok(1 in list && !(3 in list));
    assert.deepEqual([...list], items);
    assert.deepEqual(list.map((i) => (i as { path: string }).path), ["/a", "/b", "/c"]);
    assert.deepEqual(Object.keys(list), ["0", "1", "2"]);
    assert.equal(JSON.stringify(list), JSON.stringify(items));
    assert.deepEqual(list, items);
  });

  it("gives a fresh item at each read and refuses to be changed", () => {
    const list = keptList(items);
    assert.notEqual(list[0], list[0]);
    (list[0] as { mode: number }).mode = 0;
    assert.equal((list[0] as { mode: number }).mode, 420);
    assert.throws(() => (list[0] = {}), /cannot be changed/);
    assert.throws(() => list.push({}), /cannot be changed/);
    assert.throws(() => (list.length = 0), /cannot be changed/);
    assert.ok(keptInText(list));
    assert.equal(keptInText([...list]), undefined);
  });
});

describe("a config over BIG_CONFIG_BYTES", () => {
  // The padding is one more file at the end of the list, last in the text, so the rest keeps its lines and columns.
  const padFile = { path: "/pad", contents: { source: `data:,${"x".repeat(BIG_CONFIG_BYTES)}` } };
  const text = (files: unknown[], extra = {}) =>
    JSON.stringify({ ignition: { version: "3.4.0" }, storage: { directories: [{ path: "/d", mode: 493 }], links: [{ path: "/l", target: "/d/f" }], ...extra, files } }, null, 1);
  const small = (files: unknown[], extra = {}) => text(files, extra);
  const big = (files: unknown[], extra = {}) => text([...files, padFile], extra);

  it("keeps its storage lists in its text, equal to the lists of objects a small config gets", () => {
    const files = [{ path: "/etc/a", mode: 420, contents: { source: "data:,a" } }, { path: "/etc/b", contents: { source: "" } }];
    const s = parseConfig(small(files)).config;
    const b = parseConfig(big(files)).config;
    assert.ok(keptInText(b.storage!.files) && keptInText(b.storage!.directories) && keptInText(b.storage!.links));
    assert.equal(keptInText(s.storage!.files), undefined);
    assert.deepEqual([...b.storage!.files!].slice(0, -1), s.storage!.files);
    assert.deepEqual([...b.storage!.directories!], s.storage!.directories);
    assert.deepEqual([...b.storage!.links!], s.storage!.links);
    // An empty source means empty contents, in both.
    assert.equal(b.storage!.files![1]!.contents!.source, "data:,");
  });

  it("reports the same errors and warnings, at the same lines and columns", () => {
    const files = [
      { path: "/etc/a", mode: "420" },
      { path: "etc/relative" },
      { path: "/etc/a" },
      { path: "/etc/c", unknownKey: 1 },
      { path: "/l/under-a-link" },
    ];
    const issues = (config: string): ConfigIssue[] => {
      try {
        parseConfig(config);
      } catch (e) {
        if (e instanceof ConfigInvalidError) return e.issues;
        throw e;
      }
      assert.fail("the config was accepted");
    };
    const withDuplicateKey = (config: string) => config.replace('"path": "/etc/c"', '"path": "/etc/x", "path": "/etc/c"');
    const links = { links: [{ path: "/l", target: "/d/f" }, { path: "/h", target: "/d", hard: true }] };
    const s = issues(withDuplicateKey(small(files, links)));
    const b = issues(withDuplicateKey(big(files, links)));
    assert.equal(s.length, 7, JSON.stringify(s));
    assert.deepEqual(b, s);
  });

  it("merges under and over another config", () => {
    const files = [{ path: "/etc/a", contents: { source: "data:,a" } }];
    const b = parseConfig(big(files)).config;
    const other: Config = { ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/a", mode: 384 }, { path: "/etc/z" }] } };
    const over = mergeConfigs(b, other);
    assert.equal(over.storage!.files!.length, 3);
    assert.deepEqual(over.storage!.files![0], { path: "/etc/a", contents: { source: "data:,a" }, mode: 384 });
    assert.equal(over.storage!.files![2]!.path, "/etc/z");
    // Only the big config has links: its list is taken as it is.
    assert.ok(keptInText(mergeConfigs(other, b).storage!.links));
  });
});

describe("a big config applied from a file", () => {
  const dir = mkdtempSync(join(tmpdir(), "flint-text-list-"));
  after(() => {
    // Every parse leaves its document for redact(): not one whose file was changed here.
    forgetSecrets();
    rmSync(dir, { recursive: true, force: true });
  });
  const padFile = { path: "/pad", contents: { source: `data:,${"x".repeat(BIG_CONFIG_BYTES)}` } };
  const files = [{ path: "/etc/a", mode: 420, contents: { source: "data:,a" } }, { path: "/etc/b" }];
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const configText = (extra = "") => JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [...files, { ...padFile, path: `/pad${extra}` }] } }, null, 1);

  it("reads its lists from the file, held open, and fails if the file is changed in place", async () => {
    const path = write("a.ign", configText());
    const { config } = await loadConfig("apply", path);
    // Another file renamed over the name changes nothing: the file read is the one held.
    renameSync(write("other.ign", configText("-other")), path);
    assert.deepEqual(config.storage!.files![0], files[0]);
    assert.equal(config.storage!.files![2]!.path, "/pad");
    const held = join(dir, "held.ign");
    writeFileSync(held, configText());
    const fromHeld = (await loadConfig("apply", held)).config;
    const text = readFileSync(held, "utf8");
    writeFileSync(held, text.replace('"/etc/a"', '"/etc/z"'), { flag: "r+" });
    assert.throws(
      () => fromHeld.storage!.files![0],
      (e: FlintError) => e.message === `the config file ${held} changed while it was being applied` && e.where === "storage.files.0",
    );
    assert.deepEqual(fromHeld.storage!.files![1], files[1]);
  });

  it("still places an error found later at its line and column, from the file's text", async () => {
    const path = write("b.ign", configText());
    const { sources } = await loadConfig("apply", path);
    const located = locateInSources(sources, ["storage", "files", 1, "path"]);
    assert.deepEqual(located?.position, lineColumnAt(configText(), configText().indexOf('"/etc/b"')));
  });

  it("lets the config's text go: what stays alive is a small part of it", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const many = Array.from({ length: 30_000 }, (_, i) => ({ path: `/srv/d${i % 300}/f${i}`, mode: 420, contents: { source: `data:,${encodeURIComponent(`line ${i} of a file that is long enough to count\n`.repeat(3))}` } }));
    // A string outside the storage lists (a unit's contents) must not hold the text either.
    const unit = { name: "a.service", contents: "# contents without an escape, which the reader could have sliced" };
    const text = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: many }, systemd: { units: [unit] } });
    assert.ok(text.length > BIG_CONFIG_BYTES);
    const path = write("many.ign", text);
    gc();
    const before = process.memoryUsage().heapUsed;
    const { config } = await loadConfig("apply", path);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < text.length / 4, `the heap grew by ${grown} bytes for a ${text.length}-byte config`);
    assert.equal(config.systemd!.units![0]!.contents, unit.contents);
    assert.deepEqual(config.storage!.files![29_999], many[29_999]);
  });

  it("holds no descriptor of a config it does not keep reading: a small one, an invalid one", async () => {
    const open = () => readdirSync("/proc/self/fd").length;
    const before = open();
    await loadConfig("apply", write("small.ign", JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files } })));
    await assert.rejects(loadConfig("apply", write("bad.ign", configText().replace('"/etc/b"', '"etc/b"'))), /path must be absolute/);
    assert.equal(open(), before);
  });

  it("keeps a config of other than one-byte characters in its text", async () => {
    const path = write("c.ign", configText().replace('"/etc/b"', '"/etc/é"'));
    const { config } = await loadConfig("apply", path);
    writeFileSync(path, "{}");
    assert.equal(config.storage!.files![1]!.path, "/etc/é");
  });
});
