// Butane input that would explode or lead out (issue 23, classes 5 and 7):
// aliases that expand a small document into a huge one, what it translates
// to past the config cap, a FIFO named by `local:`, a tree that is a link out
// of the files directory. Each is refused (or, for the tree, kept as the one
// link Butane makes of it), never followed, never a hang.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../../agent/config/index";
import { MAX_CONFIG_BYTES } from "../../../agent/config/limits";
import { buildBundle, FLINT } from "../../helpers/bundle";
import { errorLines as errorsOf } from "./helpers";

const HEAD = "variant: fcos\nversion: 1.5.0\n";

describe("Butane input that explodes or leads out", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-butane-input-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses a document whose aliases expand it many times over (excessive aliasing, as Butane's decoder)", () => {
    // Nine lists of nine aliases to the list before: 461 bytes that read as 9^9 strings.
    const lines = ['x0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i <= 8; i++) lines.push(`x${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(",")}]`);
    const text = `${HEAD}${lines.join("\n")}\npasswd:\n  users:\n    - name: core\n      ssh_authorized_keys: *a8\n`;
    // Found where the document, read in order, turns into mostly aliases: in the anchors' own lists here.
    const [error] = errorsOf(text);
    assert.match(error!, /^x\d\.\d+: the YAML document contains excessive aliasing \(line \d+, column \d+\)$/);
  });

  it("refuses a string that is not well-formed Unicode, as Butane's decoder does, naming the first", () => {
    const text = `${HEAD}storage:\n  files:\n    - path: "/etc/a\\ud800"\n    - path: /etc/b\n      contents:\n        inline: "x\\udc00"\n`;
    assert.deepEqual(errorsOf(text), ["storage.files.0.path: must be well-formed Unicode: character 7 is a lone surrogate (\\ud800), which UTF-8 cannot encode (line 5, column 13)"]);
  });

  it("still reads a document that shares a few anchors, as Butane does", () => {
    let text = `${HEAD}storage:\n  files:\n    - path: /etc/a\n      mode: &m 420\n      contents: &c\n        inline: hello\n`;
    for (let i = 0; i < 300; i++) text += `    - path: /etc/b${i}\n      mode: *m\n      contents: *c\n`;
    const files = parseConfig(text).config.storage!.files!;
    assert.equal(files.length, 301);
    assert.equal(files.at(300)!.contents!.source, "data:,hello");
  });

  it("refuses a document that becomes a config over the cap (64 MiB), however small the YAML", () => {
    // One anchored scalar of 1 MiB, aliased by 70 units: few nodes, 70 MiB of config.
    let text = `${HEAD}big: &big "${"x".repeat(1024 * 1024)}"\nsystemd:\n  units:\n`;
    for (let i = 0; i < 70; i++) text += `    - name: u${i}.service\n      contents: *big\n`;
    assert.ok(text.length < MAX_CONFIG_BYTES / 32);
    assert.deepEqual(errorsOf(text), [`the config this translates to is over ${MAX_CONFIG_BYTES} bytes (64 MiB), the most a config may be`]);
  });

  it("refuses a local file bigger than a config may be, without reading it", () => {
    const files = join(dir, "big-local");
    mkdirSync(files);
    // Sparse: nothing is written, and nothing would be read.
    writeFileSync(join(files, "huge"), "");
    truncateSync(join(files, "huge"), MAX_CONFIG_BYTES + 1);
    const text = `${HEAD}storage:\n  files:\n    - path: /etc/huge\n      contents:\n        local: huge\n`;
    assert.deepEqual(errorsOf(text, { filesDir: files }), [`storage.files.0.contents.local: local file "huge" is ${MAX_CONFIG_BYTES + 1} bytes; a config may hold at most ${MAX_CONFIG_BYTES} (64 MiB) (line 7, column 16)`]);
  });

  it("refuses a FIFO named by local: in validate, translate and apply, instead of waiting for a writer", () => {
    buildBundle();
    const files = join(dir, "fifo");
    mkdirSync(files);
    assert.equal(spawnSync("mkfifo", [join(files, "pipe")]).status, 0);
    const config = join(dir, "fifo.bu");
    writeFileSync(config, `${HEAD}storage:\n  files:\n    - path: /etc/pipe\n      contents:\n        local: pipe\n`);
    const root = join(dir, "root");
    mkdirSync(root);
    for (const args of [["validate", "--files-dir", files, config], ["translate", "--files-dir", files, config], ["apply", "--files-dir", files, "--config", config, "--root", root]]) {
      const r = spawnSync(process.execPath, [FLINT, ...args], { encoding: "utf8", timeout: 30_000 });
      assert.equal(r.signal, null, `flint ${args[0]} hung`);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /storage\.files\.0\.contents\.local: local file "pipe" is not a regular file \(line 7, column 16\)/, r.stderr);
    }
  });

  it("makes a tree that is a symbolic link one link, as Butane does, and never walks where it leads", () => {
    const files = join(dir, "tree-link");
    mkdirSync(join(dir, "outside"));
    writeFileSync(join(dir, "outside", "secret"), "outside the files directory\n");
    mkdirSync(files);
    symlinkSync("../outside", join(files, "tree"));
    const text = `${HEAD}storage:\n  trees:\n    - local: tree\n      path: /etc/t\n`;
    const storage = parseConfig(text, { filesDir: files }).config.storage!;
    assert.deepEqual([...(storage.links ?? [])], [{ path: "/etc/t", target: "../outside" }]);
    assert.equal(storage.files, undefined);
  });

  it("refuses a tree whose directory lies outside the files directory through a link above it", () => {
    const files = join(dir, "tree-parent");
    mkdirSync(files);
    symlinkSync("..", join(files, "up"));
    const text = `${HEAD}storage:\n  trees:\n    - local: up/outside\n`;
    assert.deepEqual(errorsOf(text, { filesDir: files }), ['storage.trees.0: tree "up/outside" leads out of the files directory (line 5, column 7)']);
  });
});
