// The files stage against a reference: a plain, sequential writer of the
// same semantics (Ignition's, as docs/files.md states them), written here
// with nothing of agent/root/ — host paths, one call after another, symlinks
// followed as a chroot follows them. Seeded storage configs (a corpus of
// paths that meet, overwrite, link and hard-link each other, over a root
// that already holds files, directories, symlinks and a hard link) are
// applied by `flint apply --stages files` to one copy of the root and by the
// reference to another: where Flint succeeds the two trees are equal, and
// where it refuses the config the reference refuses it too.
// FLINT_REFERENCE_CASE=N replays one case; FLINT_REFERENCE_COUNT widens.

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { chmodSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { posix } from "node:path";
import { buildBundle, FLINT } from "../../helpers/bundle";
import { prng } from "../../helpers/prng";
import { makeTempRoot, snapshotTree } from "../../helpers/root";

const SEED = 20261208;
const COUNT = Number(process.env.FLINT_REFERENCE_COUNT ?? 40);
const ONLY = process.env.FLINT_REFERENCE_CASE === undefined ? undefined : Number(process.env.FLINT_REFERENCE_CASE);

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What the root holds before each case (both copies). */
function seedRoot(root: string): void {
  mkdirSync(`${root}/srv/a/old`, { recursive: true });
  writeFileSync(`${root}/srv/a/file`, "existing\n", { mode: 0o640 });
  writeFileSync(`${root}/srv/a/old/deep`, "deep\n");
  symlinkSync("/srv/a", `${root}/srv/to-a`);
  symlinkSync("../..", `${root}/srv/up`);
  writeFileSync(`${root}/srv/shared`, "shared\n", { mode: 0o600 });
  linkSync(`${root}/srv/shared`, `${root}/srv/a/shared-link`);
  mkdirSync(`${root}/opt`);
}

const NAMES = ["a", "b", "file", "old", "to-a", "up", "shared", "a/x", "b/y", "to-a/z", "up/srv/w"];
const pick = <T>(rand: () => number, list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

function makeConfig(n: number): Json {
  const rand = prng(SEED + n * 7919);
  const path = (): string => `/${pick(rand, ["srv", "opt", "srv/a"])}/${pick(rand, NAMES)}`;
  const owner = (): Json => (rand() < 0.3 ? { user: { id: pick(rand, [0, 1000, 4242]) }, group: { id: pick(rand, [0, 1000]) } } : {});
  const mode = (): Json => (rand() < 0.5 ? { mode: pick(rand, [0o600, 0o644, 0o755, 0o4755, 0o2750]) } : {});
  const data = (): string => `data:,${pick(rand, ["one", "two", "existing%0A", "shared%0A", ""])}`;
  const used = new Set<string>();
  const fresh = (): string | undefined => {
    const p = path();
    if (used.has(p)) return undefined;
    used.add(p);
    return p;
  };
  const directories: Json[] = [];
  const files: Json[] = [];
  const links: Json[] = [];
  for (let i = 0, count = 1 + Math.floor(rand() * 6); i < count; i++) {
    const p = fresh();
    if (!p) continue;
    const overwrite = rand() < 0.5;
    const kind = rand();
    if (kind < 0.25) directories.push({ path: p, overwrite, ...mode(), ...owner() });
    else if (kind < 0.7) {
      const file: Json = { path: p, overwrite, ...mode(), ...owner() };
      if (overwrite || rand() < 0.7) file.contents = { source: data() };
      if (rand() < 0.25) file.append = [{ source: data() }];
      files.push(file);
    } else if (kind < 0.85) links.push({ path: p, overwrite, target: pick(rand, ["/srv/a", "a", "../shared", "/nowhere", "file"]), ...owner() });
    else links.push({ path: p, overwrite, hard: true, target: pick(rand, ["/srv/shared", "/srv/a/file", "/srv/a/shared-link", "/opt/file", "file"]) });
  }
  // 3.6.0: the first spec whose setuid/setgid/sticky bits are applied, as the reference applies them.
  return { ignition: { version: "3.6.0" }, storage: { directories, files, links } };
}

// ---------------------------------------------------------------------------
// The reference writer.

class Refused extends Error {}

const depth = (p: string): number => p.split("/").filter(Boolean).length;
const lstat = (p: string) => lstatSync(p, { throwIfNoEntry: false });

/** The host path of `path`'s parent directory in `root`, as a chroot resolves it (made root:root 0755 when missing), and the last name. */
function parentOf(root: string, path: string, create: boolean): { dir: string; name: string } {
  const parts = path.split("/").filter(Boolean);
  const name = parts.pop()!;
  let here = "/";
  const todo = [...parts];
  for (let hops = 0; todo.length > 0; ) {
    const c = todo.shift()!;
    if (c === "..") {
      here = posix.dirname(here);
      continue;
    }
    const next = posix.join(here, c);
    const st = lstat(root + next);
    if (st?.isSymbolicLink()) {
      if (++hops > 40) throw new Refused("ELOOP");
      const target = readlinkSync(root + next);
      if (target.startsWith("/")) here = "/";
      todo.unshift(...target.split("/").filter((x) => x && x !== "."));
      continue;
    }
    if (!st) {
      if (!create) throw new Refused("missing");
      mkdirSync(root + next);
      chmodSync(root + next, 0o755);
    } else if (!st.isDirectory()) throw new Refused("not a directory");
    here = next;
  }
  return { dir: root + (here === "/" ? "" : here), name };
}

function removeAll(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

function setMeta(path: string, uid: number, gid: number, mode?: number): void {
  lchownSync(path, uid, gid);
  if (mode !== undefined) chmodSync(path, mode);
}

/** A file with other links is replaced by a copy of its own before its metadata changes. */
function ownCopy(path: string): void {
  const st = lstatSync(path);
  if (st.nlink < 2 || st.isDirectory()) return;
  if (st.isSymbolicLink()) {
    const target = readlinkSync(path);
    unlinkSync(path);
    symlinkSync(target, path);
  } else {
    const data = readFileSync(path);
    unlinkSync(path);
    writeFileSync(path, data);
  }
  lchownSync(path, st.uid, st.gid);
  if (!st.isSymbolicLink()) chmodSync(path, st.mode & 0o7777);
}

function fixMeta(path: string, uid: number | undefined, gid: number | undefined, mode: number | undefined): void {
  const st = lstatSync(path);
  const u = uid ?? st.uid;
  const g = gid ?? st.gid;
  const changed = u !== st.uid || g !== st.gid || (mode !== undefined && (st.mode & 0o7777) !== mode);
  if (!changed) return;
  ownCopy(path);
  setMeta(path, u, g, mode);
}

const decode = (source: string | undefined): Buffer => Buffer.from(decodeURIComponent((source ?? "data:,").slice("data:,".length)));

function referenceApply(root: string, config: Json): void {
  const s = config.storage;
  const entries: { kind: string; node: Json }[] = [
    ...s.directories.map((node: Json) => ({ kind: "directory", node })),
    ...s.files.map((node: Json) => ({ kind: "file", node })),
    ...s.links.map((node: Json) => ({ kind: "link", node })),
  ];
  const key = (e: { kind: string; node: Json }): number => (e.node.hard ? 1000 : 0) + depth(e.node.path);
  const ordered = entries.map((e, i) => ({ e, i })).sort((x, y) => key(x.e) - key(y.e) || x.i - y.i).map((x) => x.e);
  for (const { kind, node } of ordered) {
    const { dir, name } = parentOf(root, node.path, true);
    const at = `${dir}/${name}`;
    const st = lstat(at);
    const uid = node.user?.id;
    const gid = node.group?.id;
    if (kind === "directory") {
      if (st?.isDirectory()) {
        if (node.overwrite) {
          for (const child of readdirSync(at)) removeAll(`${at}/${child}`);
          fixMeta(at, uid ?? 0, gid ?? 0, node.mode ?? 0o755);
        } else fixMeta(at, uid, gid, node.mode);
        continue;
      }
      if (st && !node.overwrite) throw new Refused("exists");
      if (st) removeAll(at);
      mkdirSync(at);
      setMeta(at, uid ?? 0, gid ?? 0, node.mode ?? 0o755);
    } else if (kind === "file") {
      if (st && !st.isFile() && !node.overwrite) throw new Refused("exists");
      const keep = st?.isFile() === true && !node.contents?.source && !node.overwrite;
      if (keep && !node.append) {
        fixMeta(at, uid, gid, node.mode);
        continue;
      }
      let data = keep ? readFileSync(at) : decode(node.contents?.source);
      for (const a of node.append ?? []) data = Buffer.concat([data, decode(a.source)]);
      if (st?.isFile() && !keep && readFileSync(at).equals(data)) {
        fixMeta(at, uid, gid, node.mode ?? 0o644);
        continue;
      }
      if (st && !keep && !node.overwrite) throw new Refused("other contents");
      const mode = node.mode ?? (keep ? st!.mode & 0o7777 : 0o644);
      const [u, g] = keep ? [uid ?? st!.uid, gid ?? st!.gid] : [uid ?? 0, gid ?? 0];
      if (st) removeAll(at);
      writeFileSync(at, data);
      setMeta(at, u, g, mode);
    } else if (node.hard) {
      const target = node.target.startsWith("/") ? node.target : posix.join(posix.dirname(node.path), node.target);
      const t = parentOf(root, target, false);
      const tst = lstat(`${t.dir}/${t.name}`);
      if (!tst || tst.isDirectory()) throw new Refused("hard link target");
      if (st && st.ino === tst.ino) continue;
      if (st && !node.overwrite) throw new Refused("exists");
      if (st) removeAll(at);
      linkSync(`${t.dir}/${t.name}`, at);
    } else {
      if (st?.isSymbolicLink() && readlinkSync(at) === node.target) {
        fixMeta(at, uid, gid, undefined);
        continue;
      }
      if (st && !node.overwrite) throw new Refused("exists");
      if (st) removeAll(at);
      symlinkSync(node.target, at);
      lchownSync(at, uid ?? 0, gid ?? 0);
    }
  }
}

// ---------------------------------------------------------------------------

describe("safety: the files stage equals a plain sequential reference writer", function () {
  this.timeout(60_000 + COUNT * 4000);
  before(() => buildBundle());

  it(`gives the reference's tree, or refuses what the reference refuses, for ${ONLY === undefined ? COUNT : 1} seeded config(s)`, () => {
    const outcomes = { same: 0, refused: 0, invalid: 0 };
    for (let n = ONLY ?? 0; n < (ONLY === undefined ? COUNT : ONLY + 1); n++) {
      const config = makeConfig(n);
      const flintRoot = makeTempRoot("flint-reference-a-");
      const refRoot = makeTempRoot("flint-reference-b-");
      try {
        seedRoot(flintRoot.root);
        seedRoot(refRoot.root);
        const file = `${flintRoot.dir}/config.json`;
        writeFileSync(file, JSON.stringify(config));
        // A config the validator refuses says nothing about the writer.
        if (spawnSync(process.execPath, [FLINT, "validate", file]).status !== 0) {
          outcomes.invalid++;
          continue;
        }
        const r = spawnSync(process.execPath, [FLINT, "apply", "--config", file, "--root", flintRoot.root, "--stages", "files"], { encoding: "utf8" });
        const label = `case ${n} (FLINT_REFERENCE_CASE=${n}): ${JSON.stringify(config.storage)}\n${r.stderr.slice(-2000)}`;
        let refused: unknown;
        try {
          referenceApply(refRoot.root, config);
        } catch (e) {
          if (!(e instanceof Refused)) throw e;
          refused = e;
        }
        if (r.status === 0) {
          assert.equal(refused, undefined, `Flint applied what the reference refuses (${String(refused)}): ${label}`);
          const tree = (root: string) => snapshotTree(root, { ignore: (p) => p === "etc/.flint-result.json" });
          assert.deepEqual(tree(flintRoot.root), tree(refRoot.root), `the trees differ: ${label}`);
          outcomes.same++;
        } else {
          assert.equal(r.status, 1, `exit ${r.status}: ${label}`);
          assert.notEqual(refused, undefined, `Flint refused what the reference applies: ${label}`);
          outcomes.refused++;
        }
        assert.deepEqual(snapshotTree(flintRoot.canary), flintRoot.canaryBefore, `the canary changed: ${label}`);
      } finally {
        flintRoot.cleanup();
        refRoot.cleanup();
      }
    }
    if (ONLY === undefined) assert.ok(outcomes.same >= COUNT / 4 && outcomes.refused > 0, `the corpus tests too little: ${JSON.stringify(outcomes)}`);
  });
});
