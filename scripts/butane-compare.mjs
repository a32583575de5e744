#!/usr/bin/env node
// The outside check for Butane configs: translates every fixture in
// test/fixtures/butane/configs/ with Flint and with the real Butane
// (`butane --strict` and without), and compares: the same accept/reject (both
// modes), the same Ignition JSON (keys sorted, data: URLs decoded), warnings on
// the same fields. Exits 0 when everything agrees, 1 otherwise, and 0 with a
// note when the Butane binary is absent (the project's tests never need it).
//
// usage: node scripts/butane-compare.mjs [--write-expected] [--butane PATH] [NAME...]
//   --write-expected  also record Butane's results in test/fixtures/butane/expected/
//                     (what the unit tests check Flint against, without the binary)

import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { normalizeIgnition } from "./lib/butane-normalize.mjs";

const repo = fileURLToPath(new URL("..", import.meta.url));
const fixtures = join(repo, "test/fixtures/butane");
const args = process.argv.slice(2);
const write = args.includes("--write-expected");
const at = args.indexOf("--butane");
const butane = at >= 0 ? args[at + 1] : join(repo, "../../shared/anchors/butane-v0.19.0/butane");
const butaneBin = existsSync(butane) ? butane : "/work/shared/anchors/butane-v0.19.0/butane";
const only = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--butane");

if (!existsSync(butaneBin)) {
  console.log(`butane-compare: no Butane binary at ${butane}; skipped`);
  process.exit(0);
}
execFileSync(process.execPath, [join(repo, "build.mjs")], { stdio: "inherit" });
const flintJs = join(repo, "dist/flint.js");
const filesDir = join(fixtures, "files");

/** `warning at $.a.b, line 3 col 1: …` → "a.b" */
const butanePaths = (stderr, kind) =>
  [...stderr.matchAll(new RegExp(`^${kind} at \\$\\.?([^,]*),`, "gm"))].map((m) => m[1]).sort();

function runButane(file, strict) {
  const r = spawnSync(butaneBin, [...(strict ? ["--strict"] : []), "--files-dir", filesDir, file], { encoding: "utf8" });
  return { ok: r.status === 0, stdout: r.stdout, warnings: butanePaths(r.stderr, "warning"), errors: butanePaths(r.stderr, "error"), stderr: r.stderr };
}

function runFlint(file, strict) {
  const common = ["--experimental", "--files-dir", filesDir, ...(strict ? ["--strict"] : [])];
  const v = spawnSync(process.execPath, [flintJs, "validate", "--json", ...common, file], { encoding: "utf8" });
  const result = JSON.parse(v.stdout);
  const out = { ok: result.valid, warnings: result.warnings.map((w) => w.path).sort(), errors: result.errors.map((e) => e.path).sort(), issues: [...result.errors, ...result.warnings] };
  if (out.ok && !strict) out.stdout = spawnSync(process.execPath, [flintJs, "translate", ...common, file], { encoding: "utf8" }).stdout;
  return out;
}

const names = readdirSync(join(fixtures, "configs"))
  .filter((n) => n.endsWith(".bu"))
  .map((n) => n.slice(0, -3))
  .filter((n) => only.length === 0 || only.includes(n))
  .sort();
if (write) mkdirSync(join(fixtures, "expected"), { recursive: true });

let failed = 0;
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const uniq = (a) => [...new Set(a)];
for (const name of names) {
  const file = join(fixtures, "configs", `${name}.bu`);
  const b = runButane(file, false);
  const bs = runButane(file, true);
  const f = runFlint(file, false);
  const fs = runFlint(file, true);
  const problems = [];
  if (b.ok !== f.ok) problems.push(`accepts: butane ${b.ok}, flint ${f.ok}${f.ok ? "" : " " + JSON.stringify(f.issues.map((i) => `${i.path}: ${i.message}`))}${b.ok ? "" : " / butane: " + b.stderr.trim().split("\n")[0]}`);
  if (bs.ok !== fs.ok) problems.push(`accepts with --strict: butane ${bs.ok}, flint ${fs.ok}`);
  if (!same(uniq(b.warnings), uniq(f.warnings))) problems.push(`warnings: butane ${JSON.stringify(b.warnings)}, flint ${JSON.stringify(f.warnings)}`);
  if (b.ok && f.ok) {
    const want = normalizeIgnition(JSON.parse(b.stdout));
    const got = normalizeIgnition(JSON.parse(f.stdout));
    if (!same(want, got)) problems.push(`JSON differs:\n  butane ${JSON.stringify(want)}\n  flint  ${JSON.stringify(got)}`);
  }
  if (write) {
    const expected = { accepted: b.ok, strictAccepted: bs.ok, warnings: uniq(b.warnings), ...(b.ok ? { ignition: JSON.parse(b.stdout) } : { errors: uniq(b.errors) }) };
    writeFileSync(join(fixtures, "expected", `${name}.json`), JSON.stringify(expected, null, 2) + "\n");
  }
  if (problems.length) {
    failed++;
    console.log(`FAIL ${name}\n  ${problems.join("\n  ")}`);
  } else console.log(`ok   ${name}`);
}
console.log(`\n${names.length - failed}/${names.length} Butane configs agree with ${butaneBin}`);
process.exit(failed ? 1 : 0);
