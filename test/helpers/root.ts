// A throw-away future root for tests: a minimal /etc (passwd, group, shadow,
// gshadow) in a fresh temp dir, with a canary directory beside it that no
// test may ever see changed, and a way to snapshot a tree for comparisons.

import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TempRoot {
  /** The parent directory holding `root` and `canary`. */
  dir: string;
  /** The future root to write into. */
  root: string;
  /** A directory beside the root that must stay untouched. */
  canary: string;
  /** The canary as it was made; compare with `snapshotTree(canary)`. */
  canaryBefore: string[];
  cleanup(): void;
}

const PASSWD = "root:x:0:0:root:/root:/bin/bash\nbin:x:1:1:bin:/bin:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const GROUP = "root:x:0:\nbin:x:1:\nwheel:x:10:\nnogroup:x:65534:\n";
const SHADOW = "root:*:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n";
const GSHADOW = "root:*::\nbin:*::\nwheel:*::\nnogroup:*::\n";
// What the shadow tools read inside the root: user private groups, as on Flatcar.
const LOGIN_DEFS = "USERGROUPS_ENAB yes\nUID_MIN 1000\nUID_MAX 60000\nGID_MIN 1000\nGID_MAX 60000\nSYS_UID_MIN 201\nSYS_UID_MAX 999\nSYS_GID_MIN 201\nSYS_GID_MAX 999\nCREATE_HOME yes\n";

export function makeTempRoot(prefix = "flint-root-"): TempRoot {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const root = join(dir, "root");
  const canary = join(dir, "canary");
  mkdirSync(join(root, "etc"), { recursive: true, mode: 0o755 });
  writeFileSync(join(root, "etc/passwd"), PASSWD, { mode: 0o644 });
  writeFileSync(join(root, "etc/group"), GROUP, { mode: 0o644 });
  writeFileSync(join(root, "etc/shadow"), SHADOW, { mode: 0o640 });
  writeFileSync(join(root, "etc/gshadow"), GSHADOW, { mode: 0o640 });
  writeFileSync(join(root, "etc/login.defs"), LOGIN_DEFS, { mode: 0o644 });
  mkdirSync(join(root, "home"), { mode: 0o755 });
  mkdirSync(join(canary, "etc"), { recursive: true });
  writeFileSync(join(canary, "etc/motd"), "canary\n");
  writeFileSync(join(canary, "untouched"), "canary\n");
  return {
    dir,
    root,
    canary,
    canaryBefore: snapshotTree(canary),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * One line per entry under `dir`, sorted: type, path, mode, owner, and a
 * content hash or link target. Two trees are equal when their lines are.
 */
export function snapshotTree(dir: string, options: { ignore?: (rel: string) => boolean } = {}): string[] {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (options.ignore?.(path)) continue;
      const full = join(dir, path);
      const st = lstatSync(full);
      const meta = `${path} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) lines.push(`link ${meta} -> ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        lines.push(`dir ${meta}`);
        walk(path);
      } else if (st.isFile()) lines.push(`file ${meta} ${createHash("sha256").update(readFileSync(full)).digest("hex").slice(0, 16)} nlink=${st.nlink}`);
      else lines.push(`other ${meta}`);
    }
  };
  walk("");
  return lines;
}

/**
 * Inside a describe: a fresh temp root for each test, removed afterwards,
 * after checking that the canary beside it was not touched.
 */
export function useTempRoot(): Readonly<Pick<TempRoot, "dir" | "root" | "canary">> {
  let current: TempRoot | undefined;
  beforeEach(() => {
    current = makeTempRoot();
  });
  afterEach(() => {
    const t = current!;
    current = undefined;
    try {
      assert.deepEqual(snapshotTree(t.canary), t.canaryBefore, "something was written outside the root");
    } finally {
      t.cleanup();
    }
  });
  const now = (): TempRoot => {
    if (!current) throw new Error("the temp root exists only inside a test");
    return current;
  };
  return {
    get dir() {
      return now().dir;
    },
    get root() {
      return now().root;
    },
    get canary() {
      return now().canary;
    },
  };
}

/** The mount points at or below `dir`, in the order they were mounted (from /proc/self/mountinfo; `\040` is a space). */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\040/g, " "))
    .filter((p) => p === dir || p.startsWith(dir + "/"));
}
