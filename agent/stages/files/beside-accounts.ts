// Which entries the files stage may write while the config's groups and
// users are being made (useradd and friends: a child process each, mostly
// waiting for its own fsyncs). Ignition makes accounts first, then files; an
// entry written meanwhile must give the same tree, so it must be one the
// account tools can neither see nor change, nor need:
//   - no owner by name (those are looked up in the accounts being made),
//   - not a hard link (its target may be any entry, made later),
//   - in none of the top-level trees the account step touches: /etc (the
//     account files, login.defs, skel, crypttab and LUKS keys), /var (mail
//     spools, lastlog), and the tree of every home it may make or write keys
//     into (a config user's homeDir, else useradd's HOME base from the
//     root's /etc/default/useradd, and the current home of a user who exists).
// Top-level trees, not paths: useradd makes a home's missing parents, so two
// writers in one tree could race on them. A symlink on the way could lead
// anywhere, so these entries are walked without following any (an entry that
// meets one waits for the accounts after all: see SymlinkOnPath).

import { posix } from "node:path";
import type { Config } from "../../config/types";
import { readUsers } from "../../root/accounts";
import { readRootText } from "../../root/read";
import type { StorageEntries } from "./entries";
import type { NodeWriter } from "./nodes";
import { writeInSteps } from "./write-steps";

/** Trees the account step writes whatever the config says. */
const ACCOUNT_TREES = ["etc", "var"];

/** useradd's default home base when /etc/default/useradd names none. */
const DEFAULT_HOME_BASE = "/home";

function topOf(path: string): string {
  return path.split("/").find((c) => c !== "" && c !== ".") ?? "";
}

/** The top-level trees the account step may touch for this config in this root. */
export async function accountTrees(root: string, config: Config): Promise<Set<string>> {
  const trees = new Set(ACCOUNT_TREES);
  const users = config.passwd?.users ?? [];
  if (users.length === 0) return trees;
  const defaults = readRootText(root, "/etc/default/useradd");
  const base = /^HOME=(.+)$/m.exec(defaults)?.[1]?.trim() || DEFAULT_HOME_BASE;
  const existing = new Map((await readUsers(root)).map((u) => [u.name, u.home]));
  for (const user of users) {
    trees.add(topOf(user.homeDir ?? posix.join(base, user.name)));
    const home = existing.get(user.name);
    if (home !== undefined) trees.add(topOf(home));
  }
  return trees;
}

/**
 * The entries of `entries` that may be written while accounts are made, and
 * the rest, each in id order.
 */
export function splitByAccounts(entries: StorageEntries, trees: Set<string>): { beside: Int32Array; after: Int32Array } {
  const isBeside = new Uint8Array(entries.count);
  let besides = 0;
  for (let id = 0; id < entries.count; id++) {
    if (!independentOfAccounts(entries, id, trees)) continue;
    isBeside[id] = 1;
    besides++;
  }
  const beside = new Int32Array(besides);
  const after = new Int32Array(entries.count - besides);
  for (let id = 0, b = 0, a = 0; id < entries.count; id++) {
    if (isBeside[id]) beside[b++] = id;
    else after[a++] = id;
  }
  return { beside, after };
}

function independentOfAccounts(entries: StorageEntries, id: number, trees: Set<string>): boolean {
  if (entries.isHard(id) || entries.hasOwnerByName(id)) return false;
  const top = entries.topOf(id);
  // "/" itself, or a top-level name the account step may make.
  return top !== "" && !trees.has(top);
}

/**
 * Runs the account step and, meanwhile, writes `beside` (walked without
 * following symlinks: one that meets a symlink goes to `deferred`, for after
 * the accounts). A failed account step fails the stage, as Ignition would
 * have before writing anything else.
 */
export async function accountsWithEntriesBeside(
  writer: NodeWriter,
  accounts: () => Promise<void>,
  entries: StorageEntries,
  beside: Int32Array,
  deferred: number[],
): Promise<void> {
  let accountsMade = false;
  const made = accounts().then(() => {
    accountsMade = true;
  });
  made.catch(() => undefined); // handled below, once the entries settle too
  // Let the account step reach its first tool before the entries take the event loop.
  await new Promise((resolve) => setImmediate(resolve));
  const besideWritten = async (): Promise<void> => {
    await writeInSteps(writer, entries, beside, deferred);
    // Still waiting for the accounts: make these entries durable meanwhile, not at the end.
    if (!accountsMade && writer.batch.size > 0) await writer.batch.syncPending();
  };
  const [madeResult, written] = await Promise.allSettled([made, besideWritten()]);
  if (madeResult.status === "rejected") throw madeResult.reason;
  if (written.status === "rejected") throw written.reason;
}
