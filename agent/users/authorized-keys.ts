// A user's SSH keys as fragments in `~/.ssh/authorized_keys.d/`, merged into
// `~/.ssh/authorized_keys` (what Flatcar's update-ssh-keys does). Every write
// is made by name inside a directory walked in the root (never through a
// symlink at .ssh or authorized_keys.d), to a temporary name, renamed into place.

import { readdirSync } from "node:fs";
import { posix } from "node:path";
import { FlintError } from "../errors";
import { readAllOf } from "../root/read";
import { lstatIn, openDirectory, RootDir, type Ownership } from "../root/resolve";
import { makeOneDirectory, setOwnerAndMode, writeFilesIn, type NewFile } from "../root/write";

export interface KeyFragment {
  /** The root directory (`/` on a booted system, `/sysroot` in the initramfs). */
  root: string;
  /** The user's home as seen inside the root, e.g. `/home/core`. */
  home: string;
  uid: number;
  gid: number;
  /** The fragment's file name in authorized_keys.d, e.g. `flint-metadata`. */
  fragment: string;
  /** One OpenSSH public key each. */
  keys: string[];
  /**
   * How the new files are made durable and put in place: by default now, as
   * one batch (writeFilesIn); the files stage hands them to its batch
   * instead, committed with everything else it writes.
   */
  commit?: (files: NewFile[]) => Promise<void>;
}

/** The fragment holding the platform's metadata keys, at first boot and at every refresh. */
export const METADATA_FRAGMENT = "flint-metadata";

/** Where a previous authorized_keys goes when fragments take it over. */
export const PRESERVED_FRAGMENT = "old_authorized_keys";

/** Writes the fragment and rebuilds authorized_keys; returns both paths as seen inside the root. */
export async function installKeyFragment(input: KeyFragment): Promise<{ fragment: string; authorizedKeys: string }> {
  if (!/^[A-Za-z0-9_.@-]+$/.test(input.fragment) || input.fragment.startsWith(".")) {
    throw new FlintError("fragment names are plain file names (letters, digits, . _ @ -)", `authorized_keys.d/${input.fragment}`);
  }
  for (const [i, key] of input.keys.entries()) {
    if (/[\r\n\0]/.test(key)) throw new FlintError("an SSH key must be a single line", `key ${i} for ${input.home}`);
  }
  const owner = { uid: input.uid, gid: input.gid };
  const home = openDirectory(input.root, input.home);
  if (!home.dir) throw new FlintError("the home directory does not exist", input.home);
  const sshDir = posix.join(input.home, ".ssh");
  const fragmentDir = posix.join(sshDir, "authorized_keys.d");
  const authorizedKeys = posix.join(sshDir, "authorized_keys");
  const opened: RootDir[] = [home.dir];
  try {
    const ssh = privateDirectory(home.dir, ".ssh", owner);
    opened.push(ssh);
    const fragmentsExisted = lstatIn(ssh, "authorized_keys.d") !== undefined;
    const fragments = privateDirectory(ssh, "authorized_keys.d", owner);
    opened.push(fragments);

    // The fragments written now, by name; the others are read from the directory.
    const written = new Map<string, string>();
    // Keys someone put in authorized_keys before fragments existed keep living, in their own fragment.
    if (!fragmentsExisted) {
      const previous = readRegular(ssh, "authorized_keys");
      if (previous !== undefined && previous.trim() !== "") written.set(PRESERVED_FRAGMENT, previous);
    }
    written.set(input.fragment, input.keys.map((k) => k.trim()).filter(Boolean).map((k) => k + "\n").join(""));

    // Only the keys, fragment after fragment in name order, as Ignition's authorized_keys holds only keys.
    let merged = "";
    const names = new Set([...readdirSync(fragments.self).filter((n) => !n.startsWith(".")), ...written.keys()]);
    for (const name of [...names].sort()) {
      const text = written.get(name) ?? readRegular(fragments, name);
      if (text === undefined) continue;
      merged += `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}`;
    }
    // Fragments and authorized_keys become durable together, each whole or not at all.
    const files: NewFile[] = [...written].map(([name, data]) => ({ dir: fragments, name, data, mode: 0o600, owner }));
    await (input.commit ?? ((list) => writeFilesIn(input.root, list)))([...files, { dir: ssh, name: "authorized_keys", data: merged, mode: 0o600, owner }]);
  } finally {
    for (const d of opened) d.close();
  }
  return { fragment: posix.join(fragmentDir, input.fragment), authorizedKeys };
}

/** Makes (or checks) a 0700 directory `name` in `parent` owned by the user, and opens it; a symlink there is refused. */
function privateDirectory(parent: RootDir, name: string, owner: Ownership): RootDir {
  const st = lstatIn(parent, name);
  if (st?.isSymbolicLink()) throw new FlintError("is a symlink; refusing to write keys through it", parent.inRoot(name));
  if (st && !st.isDirectory()) throw new FlintError("exists and is not a directory", parent.inRoot(name));
  if (!st) makeOneDirectory(parent, name, 0o700, owner);
  else setOwnerAndMode(parent, name, owner, 0o700);
  const opened = openDirectory(parent.self, "/" + name, { noSymlinks: true });
  if (!opened.dir) throw new FlintError("disappeared while keys were written", parent.inRoot(name));
  return new RootDir(opened.dir.fd, parent.inRoot(name));
}

/** Keys are small; a fragment larger than this is not one. */
const FRAGMENT_CAP = 16 * 1024 * 1024;

/** The text of a regular file `name` in `dir`; undefined for anything else (a FIFO is skipped, never read). */
function readRegular(dir: RootDir, name: string): string | undefined {
  if (!lstatIn(dir, name)?.isFile()) return undefined;
  return readAllOf(dir, name, FRAGMENT_CAP).toString("utf8");
}
