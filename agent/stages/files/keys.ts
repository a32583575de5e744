// SSH keys written by the files stage: the config's users' keys (the `ignition`
// fragment, Ignition's name) and the platform's (platform-keys.ts), committed through the
// stage's batch.

import { posix } from "node:path";
import type { PasswdUser } from "../../config/types";
import { FlintError } from "../../errors";
import { findUser, type RootUser } from "../../root/accounts";
import { inspectInRoot } from "../../root/resolve";
import { makeOneDirectory, openOrCreateDirectory, stageFile, type NewFile } from "../../root/write";
import { flushBatch, type NodeWriter } from "./nodes";
import type { KeyInstaller } from "./passwd";
import { record } from "./record";

/** The fragment holding the config's keys of a user: Ignition's name, which the OS and its users know. */
export const CONFIG_FRAGMENT = "ignition";

/** The config's keys of a user, as the `ignition` fragment, where Ignition puts them. */
export function keyInstaller(writer: NodeWriter): KeyInstaller {
  return async (user: PasswdUser, where: string) => {
    const account = findUser(writer.ctx.root, user.name);
    if (!account) throw new FlintError(`user ${JSON.stringify(user.name)} is not in the root's /etc/passwd`, where);
    checkHomeCreatable(writer.ctx.root, account, where);
    await writeKeyFragment(writer, account, CONFIG_FRAGMENT, user.sshAuthorizedKeys ?? []);
  };
}

/**
 * Ignition writes a config user's keys as that user (fsuid and fsgid set to
 * theirs), making any missing directory on the way: a home that does not
 * exist (`noCreateHome: true`, or a user already in the image without one)
 * can be made only where the user may write, so it fails there with
 * "creating parent dirs ...: permission denied". So does Flint, before it
 * writes any key; root may make its home anywhere.
 */
function checkHomeCreatable(root: string, account: RootUser, where: string): void {
  if (account.uid === 0) return;
  let dir = account.home;
  let st = inspectInRoot(root, dir, { followLast: true }).stat;
  if (st) return;
  while (!st && dir !== "/") {
    dir = posix.dirname(dir);
    st = inspectInRoot(root, dir, { followLast: true }).stat;
  }
  const bits = st!.uid === account.uid ? (st!.mode >> 6) & 7 : st!.gid === account.gid ? (st!.mode >> 3) & 7 : st!.mode & 7;
  if (st!.isDirectory() && (bits & 3) === 3) return;
  throw new FlintError(
    `cannot write the SSH keys of ${JSON.stringify(account.name)}: the home ${account.home} does not exist, and the user (uid ${account.uid}) may not create it in ${dir}; ` +
      "Ignition fails here too (creating parent dirs: permission denied). Let useradd create the home (no noCreateHome), or make it in storage.directories owned by the user",
    `${where}.sshAuthorizedKeys`,
  );
}

/**
 * Keys go to `~/.ssh/authorized_keys.d/FRAGMENT`, merged into
 * authorized_keys. A home that does not exist (root on an image without
 * /root) is made first, owned by the user and 0700, as Ignition makes it;
 * missing parents above it are root's, 0755. The files go into the stage's
 * batch (synced and renamed with everything else, not each with an fsync of
 * its own), after the batch has put in place any it already holds for this
 * home: a second fragment (the platform's keys after the config's) merges
 * what the first one wrote.
 */
export async function writeKeyFragment(writer: NodeWriter, account: RootUser, fragment: string, keys: string[]): Promise<void> {
  const { ctx } = writer;
  const { root } = ctx;
  const home = inspectInRoot(root, account.home, { followLast: true });
  if (!home.stat) {
    const parent = openOrCreateDirectory(root, posix.dirname(home.rootPath), { created: (p) => record(ctx, "mkdir", p, "mode=0755 owner=0:0") })!;
    try {
      record(ctx, "mkdir", home.rootPath, `mode=0700 owner=${account.uid}:${account.gid}`);
      makeOneDirectory(parent, posix.basename(home.rootPath), 0o700, { uid: account.uid, gid: account.gid });
    } finally {
      parent.close();
    }
  }
  if (writer.batch.holds(posix.join(home.rootPath, ".ssh/authorized_keys"))) await flushBatch(writer);
  const { installKeyFragment } = await import("../../users/authorized-keys");
  const commit = async (files: NewFile[]): Promise<void> => {
    for (const f of files) {
      const staged = stageFile(f.dir, f.data, f.mode, f.owner);
      writer.batch.add(f.dir, staged.name, f.name, staged.size);
    }
  };
  await installKeyFragment({ root, home: account.home, uid: account.uid, gid: account.gid, fragment, keys, commit });
}
