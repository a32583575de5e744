// One module owns paths inside the root: agent/root/ (resolve.ts walks them,
// write.ts and read.ts use them). A path built by hand from the root
// (`join(root, "/etc/crypttab")`) skips the in-root resolver: a symlink in
// the root then leads to the host. This scan of agent/ fails on any such
// construction outside agent/root/.

import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const AGENT = join(__dirname, "../../../agent");
const OWNER = "root/";

/** An identifier that names a root directory: `root`, `ctx.root`, `options.root`, `canonicalRoot`, `sysroot`… */
const ROOTISH = String.raw`(?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$]*[Rr]oot\b`;

const PATTERNS: { what: string; re: RegExp }[] = [
  { what: "join with the root as first part", re: new RegExp(String.raw`\bjoin\(\s*${ROOTISH}\s*,`) },
  { what: "path.resolve with the root as first part", re: new RegExp(String.raw`\b(?:posix|path)\.resolve\(\s*${ROOTISH}\s*,`) },
  { what: "a template literal starting with the root", re: new RegExp(String.raw`\`\$\{${ROOTISH}\}/`) },
  { what: "the root concatenated with a path", re: new RegExp(String.raw`${ROOTISH}\s*\+\s*["'\`]/`) },
];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith(".ts") ? [full] : [];
  });
}

/** Offending lines of `text` (a comparison such as `p.startsWith(root + "/")` builds no path and is allowed). */
export function rawRootPaths(text: string): string[] {
  const found: string[] = [];
  text.split("\n").forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "");
    if (/startsWith\(/.test(code)) return;
    for (const { what, re } of PATTERNS) if (re.test(code)) found.push(`line ${i + 1}: ${what}: ${line.trim()}`);
  });
  return found;
}

describe("paths inside the root have one owner (agent/root/)", () => {
  it("finds raw root paths when they are there (the scan itself works)", () => {
    assert.equal(rawRootPaths('const p = join(root, "/etc/crypttab");').length, 1);
    assert.equal(rawRootPaths('await stat(posix.join(ctx.root, "etc"));').length, 1);
    assert.equal(rawRootPaths("const p = `${options.root}/etc/passwd`;").length, 1);
    assert.equal(rawRootPaths('const p = sysroot + "/etc";').length, 1);
    assert.equal(rawRootPaths('const p = posix.resolve(options.root, "etc");').length, 1);
    assert.equal(rawRootPaths("const node = resolve(root); const doc = source.resolve(source.root);").length, 0, "a YAML document's root is no path");
    assert.equal(rawRootPaths('const p = join(RUN_KEY_DIR, name); if (p.startsWith(root + "/")) x();').length, 0);
  });

  it("no module outside agent/root/ builds a path from the root by hand", () => {
    const offenders: string[] = [];
    for (const file of sources(AGENT)) {
      const rel = relative(AGENT, file);
      if (rel.startsWith(OWNER)) continue;
      for (const hit of rawRootPaths(readFileSync(file, "utf8"))) offenders.push(`agent/${rel} ${hit}`);
    }
    assert.deepEqual(offenders, [], "go through agent/root/ (openParent, readRootFile, writeRootFile, inspectInRoot) instead");
  });
});
