// SSH keys written by the files stage: the config's users' keys (the `flint`
// fragment) and the platform's (platform-keys.ts), committed through the
// stage's batch.

import { posix } from "node:path";
import type { PasswdUser } from "../../config/types";
import { FlintError } from "../../errors";
import { findUser } from "../../root/accounts";
import { inspectInRoot } from "../../root/resolve";
import { makeOneDirectory, openOrCreateDirectory, writeTempFileSync } from "../../root/write";
import type { KeyFragment } from "../../users/authorized-keys";
import type { StageContext } from "../context";
import { flushBatch, type NodeWriter } from "./nodes";
import type { KeyInstaller } from "./passwd";
import { record } from "./record";

/** For the home (its path in the root, symlinks resolved): how its key files are committed. */
export type KeyCommitter = (home: string) => Promise<KeyFragment["commit"]>;

/**
 * Key files go into the stage's batch (synced and renamed with everything
 * else, not each with an fsync of its own), after the batch has put in place
 * any it already holds for this home: a second installation (the platform's
 * keys after the config's) merges what the first one wrote.
 */
export function keysThroughBatch(writer: NodeWriter): KeyCommitter {
  return async (home) => {
    if (writer.batch.holds(posix.join(home, ".ssh/authorized_keys"))) await flushBatch(writer);
    return async (files) => {
      for (const f of files) {
        const data = typeof f.data === "string" ? Buffer.from(f.data) : f.data;
        writer.batch.add(f.dir, writeTempFileSync(f.dir, data, f.mode, f.owner), f.name, { bytes: Buffer.isBuffer(data) ? data.length : 0, regularFile: true });
      }
    };
  };
}

/**
 * Keys go to `~/.ssh/authorized_keys.d/flint`, merged into authorized_keys (as
 * Ignition's `ignition` fragment). A home that does not exist (root on an
 * image without /root) is made first, owned by the user and 0700, as
 * Ignition makes it; missing parents above it are root's, 0755.
 */
export function keyInstaller(ctx: StageContext, committer: KeyCommitter): KeyInstaller {
  const { root } = ctx;
  return async (user: PasswdUser, where: string) => {
    const account = await findUser(root, user.name);
    if (!account) throw new FlintError(`user ${JSON.stringify(user.name)} is not in the root's /etc/passwd`, where);
    const home = await inspectInRoot(root, account.home, { followLast: true });
    if (!home.stat) {
      const parent = openOrCreateDirectory(root, posix.dirname(home.rootPath), { created: (p) => record(ctx, "mkdir", p, "mode=0755 owner=0:0") })!;
      try {
        record(ctx, "mkdir", home.rootPath, `mode=0700 owner=${account.uid}:${account.gid}`);
        makeOneDirectory(parent, posix.basename(home.rootPath), 0o700, { uid: account.uid, gid: account.gid });
      } finally {
        parent.close();
      }
    }
    const { installKeyFragment } = await import("../../users/authorized-keys");
    const commit = await committer(home.rootPath);
    await installKeyFragment({ root, home: account.home, uid: account.uid, gid: account.gid, fragment: "flint", keys: user.sshAuthorizedKeys ?? [], commit });
  };
}
