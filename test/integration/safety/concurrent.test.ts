// A property test beside the fuzz test (issue 23): while `flint apply
// --stages files` writes seeded configs into a scratch root, a second
// process keeps changing that root — swapping files and Flint's temporary
// files for symlinks and hard links to a canary tree beside the root,
// replacing directories with symlinks to it, bind-mounting it inside the
// root. Whatever the interleaving: nothing outside the root changes (the
// canary's contents, modes and owners, checksummed; the root holds links
// into it), Flint exits 0 or 1 with a one-line reason and no stack trace,
// and when it succeeds every file entry that is
// still a plain file of its own at a plain path holds the config's contents
// and mode. (Temporary files are not checked: one in a directory the
// changer covered with a mount is out of the failed run's reach, and the
// next run sweeps it.) Bounded: FLINT_CONCURRENT_COUNT runs (default 10), each with
// its own changer, stopped (its mounts undone) before the checks; every
// mount under the scratch directory is undone afterwards whatever happens.

import { strict as assert } from "node:assert";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBundle, FLINT } from "../../helpers/bundle";
import { prng } from "../../helpers/prng";
import { makeTempRoot, mountsUnder, type TempRoot } from "../../helpers/root";

const SEED = 20261208;
const COUNT = Number(process.env.FLINT_CONCURRENT_COUNT ?? 10);

/** The changer: a loop of changes to ROOT/srv until SIGTERM, then its bind mounts undone. */
const CHANGER = String.raw`
const fs = require("node:fs");
const path = require("node:path");
const { execFileSync } = require("node:child_process");
const [root, canary, seedText] = process.argv.slice(1);
let a = Number(seedText) >>> 0;
const rand = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
const pick = (list) => list[Math.floor(rand() * list.length)];
const mounts = [];
let stopping = false;
process.on("SIGTERM", () => { stopping = true; });
const srv = path.join(root, "srv");
const quiet = (f) => { try { f(); } catch {} };
/** Every path under srv, not through symlinks or mounts. */
function paths(dir, out = []) {
  let names = [];
  quiet(() => { names = fs.readdirSync(dir); });
  for (const n of names) {
    const p = path.join(dir, n);
    out.push(p);
    let st; quiet(() => { st = fs.lstatSync(p); });
    if (st && st.isDirectory() && !mounts.includes(p)) paths(p, out);
  }
  return out;
}
const victim = path.join(canary, "victim");
const actions = [
  // Flint's temporary files become symlinks or hard links to the canary.
  () => { for (const p of paths(srv)) if (path.basename(p).startsWith(".flint-tmp-")) quiet(() => { fs.unlinkSync(p); rand() < 0.5 ? fs.symlinkSync(victim, p) : fs.linkSync(victim, p); }); },
  // A file becomes a symlink (absolute or climbing) or a hard link to the canary.
  () => { const p = pick(paths(srv)); if (!p) return; quiet(() => { if (!fs.lstatSync(p).isFile()) return; fs.unlinkSync(p); const k = rand(); if (k < 0.33) fs.symlinkSync(victim, p); else if (k < 0.66) fs.symlinkSync("../../../../../canary/victim", p); else fs.linkSync(victim, p); }); },
  // A directory is moved aside and replaced by a symlink to the canary's.
  () => { const p = pick(paths(srv)); if (!p || mounts.includes(p)) return; quiet(() => { if (!fs.lstatSync(p).isDirectory()) return; fs.renameSync(p, p + ".moved-" + Math.floor(rand() * 1e6)); fs.symlinkSync(rand() < 0.5 ? path.join(canary, "dir") : "../../../canary/dir", p); }); },
  // The canary's directory is bind-mounted inside the root, for a while.
  () => { if (mounts.length > 1) { quiet(() => execFileSync("umount", ["-l", mounts.shift()])); return; } const p = path.join(srv, pick(["a", "b", "m"])); quiet(() => { if (!fs.lstatSync(p).isDirectory()) return; execFileSync("mount", ["--bind", path.join(canary, "dir"), p]); mounts.push(p); }); },
  // A file reappears where one was written, a directory where a file goes.
  // (Only in a real directory of the root, never through a link or a mount: the changer must not write the canary itself.)
  () => { const dir = path.join(srv, pick(["a", "b"])); const p = path.join(dir, pick(["f0", "f1", "f2", "d0"])); quiet(() => { if (!fs.lstatSync(dir).isDirectory() || mounts.includes(dir)) return; rand() < 0.5 ? fs.writeFileSync(p, "planted\n", { flag: "wx" }) : fs.mkdirSync(p); }); },
];
(function loop() {
  if (stopping) { for (const m of mounts.reverse()) quiet(() => execFileSync("umount", ["-l", m])); process.exit(0); }
  pick(actions)();
  setImmediate(loop);
})();
`;

/** The canary's regular files, directories and links: contents, mode and owner (not link counts, which the changer's hard links raise). */
function checksum(dir: string): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = join(dir, rel, name);
      const st = lstatSync(p);
      const meta = `${rel}/${name} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        lines.push(`d ${meta}`);
        walk(join(rel, name));
      } else if (st.isFile()) lines.push(`f ${meta} ${createHash("sha256").update(readFileSync(p)).digest("hex")}`);
      else lines.push(`o ${meta}`);
    }
  };
  walk("");
  return lines;
}

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function makeConfig(n: number): Json {
  const rand = prng(SEED + n * 7919);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;
  const files: Json[] = [];
  const directories: Json[] = [];
  const links: Json[] = [];
  const used = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const path = `/srv/${pick(["a", "b", "m"])}/${pick(["f0", "f1", "f2", "f3", "d0", "d1", "l0"])}`;
    if (used.has(path)) continue;
    used.add(path);
    const k = rand();
    if (k < 0.6) {
      const file: Json = { path, overwrite: rand() < 0.7, mode: pick([0o600, 0o644, 0o4755]), contents: { source: `data:,run-${n}-${i}` } };
      if (rand() < 0.3) file.append = [{ source: "data:,%0Aappended" }];
      files.push(file);
    } else if (k < 0.8) directories.push({ path, overwrite: rand() < 0.5, mode: pick([0o700, 0o755]) });
    else links.push({ path, overwrite: true, target: pick(["/srv/a", "../b", "/etc/passwd"]) });
  }
  // Existing names the root holds, changed in place by mode only (one is a hard link to the canary).
  files.push({ path: "/srv/hard", mode: 0o4777 });
  // 3.6.0: the first spec whose setuid/setgid/sticky bits are applied (the expected tree has them).
  return { ignition: { version: "3.6.0" }, storage: { files, directories, links } };
}

function seedRoot(t: TempRoot): void {
  mkdirSync(join(t.canary, "dir"));
  writeFileSync(join(t.canary, "dir/inside"), "canary dir\n");
  writeFileSync(join(t.canary, "victim"), "victim\n", { mode: 0o600 });
  for (const d of ["srv/a", "srv/b", "srv/m"]) mkdirSync(join(t.root, d), { recursive: true });
  writeFileSync(join(t.root, "srv/a/f0"), "old\n");
  linkSync(join(t.canary, "victim"), join(t.root, "srv/hard"));
  symlinkSync("../../canary", join(t.root, "srv/out"));
  symlinkSync(t.canary, join(t.root, "srv/abs"));
}


function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** A plain path: every component below the root a real directory (not a symlink, not moved), as the config names it. */
function plainFile(root: string, path: string): boolean {
  let here = root;
  const parts = path.split("/").filter(Boolean);
  for (const [i, part] of parts.entries()) {
    here = join(here, part);
    const st = lstatSync(here, { throwIfNoEntry: false });
    if (!st) return false;
    if (i < parts.length - 1 ? !st.isDirectory() : !st.isFile()) return false;
    if (mountsUnder(here).length > 0) return false;
  }
  return true;
}

describe("safety: a root changed by another process while Flint writes it", function () {
  this.timeout(60_000 + COUNT * 20_000);
  before(() => buildBundle());

  it(`keeps everything outside the root unchanged and ends in the config's tree or a clean error (${COUNT} runs)`, async () => {
    const outcomes = { ok: 0, refused: 0 };
    for (let n = 0; n < COUNT; n++) {
      const t = makeTempRoot("flint-concurrent-");
      let changer: ChildProcess | undefined;
      try {
        seedRoot(t);
        const canaryBefore = checksum(t.canary);
        const config = makeConfig(n);
        const file = join(t.dir, "config.json");
        writeFileSync(file, JSON.stringify(config));
        changer = spawn(process.execPath, ["-e", CHANGER, t.root, t.canary, String(SEED + n)], { stdio: "ignore" });
        // Let the changer start before Flint does.
        await new Promise((resolve) => setTimeout(resolve, 50));
        const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, [FLINT, "apply", "--config", file, "--root", t.root, "--stages", "files"], { stdio: ["ignore", "pipe", "pipe"] });
          const chunks: Buffer[] = [];
          child.stdout!.on("data", (d: Buffer) => chunks.push(d));
          child.stderr!.on("data", (d: Buffer) => chunks.push(d));
          child.on("close", (code) => resolve({ code, out: Buffer.concat(chunks).toString("utf8") }));
        });
        await stop(changer);
        const label = `run ${n}: ${JSON.stringify(config.storage)}\n--- output ---\n${r.out.slice(-3000)}`;
        assert.deepEqual(checksum(t.canary), canaryBefore, `something outside the root changed: ${label}`);
        assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${label}`);
        assert.doesNotMatch(r.out, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace: ${label}`);
        assert.doesNotMatch(r.out, /\b(TypeError|RangeError|ReferenceError|Cannot read propert|is not a function)\b/, `an internal error: ${label}`);
        if (r.code === 0) {
          outcomes.ok++;
          const victim = lstatSync(join(t.canary, "victim"));
          for (const f of config.storage.files as Json[]) {
            if (!f.contents || !plainFile(t.root, f.path)) continue;
            const st = lstatSync(join(t.root, f.path));
            if (st.ino === victim.ino) continue; // the changer's hard link, made after Flint wrote
            const text = readFileSync(join(t.root, f.path), "utf8");
            if (text === "planted\n") continue; // the changer's file, made after
            const wanted = decodeURIComponent(f.contents.source.slice("data:,".length)) + (f.append ? "\nappended" : "");
            assert.equal(text, wanted, `${f.path} does not hold the config's contents: ${label}`);
            assert.equal(st.mode & 0o7777, f.mode, `${f.path} mode: ${label}`);
          }
        } else outcomes.refused++;
      } finally {
        if (changer) await stop(changer);
        for (const m of mountsUnder(t.dir).reverse()) spawnSync("umount", ["-l", m]);
        spawnSync("rm", ["-rf", "--", t.dir]);
      }
    }
    assert.ok(outcomes.ok + outcomes.refused === COUNT, JSON.stringify(outcomes));
  });
});
