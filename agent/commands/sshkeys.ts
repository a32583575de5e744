// `flint sshkeys --user NAME [--platform ID] [--root DIR]`: the platform's SSH
// keys into the user's authorized_keys.d/flint-metadata, then authorized_keys
// rebuilt from all fragments (run by flint-sshkeys@.service after boot).

import { loadBootParams } from "../boot/cmdline";
import { parseCommandArgs, requireOption } from "../cli";
import { FlintError } from "../errors";
import { log } from "../log";

/** After boot nobody waits on this unit: give up after two minutes instead of retrying forever. */
export const SSHKEYS_TOTAL_TIMEOUT_S = 120;

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, {
    user: { type: "string" },
    platform: { type: "string" },
    root: { type: "string" },
    "cmdline-file": { type: "string" },
  });
  const userName = requireOption(command!, "user", values.user);
  const root = values.root ?? "/";
  const { canonicalPlatformId, detectPlatform, loadPlatform } = await import("../platforms/index");
  const { platformPaths } = await import("../platforms/paths");
  const requested = values.platform ?? loadBootParams(values["cmdline-file"]).platformId;
  const platformId = requested ? canonicalPlatformId(requested) : await detectPlatform(platformPaths().sysfs);
  const platform = await loadPlatform(platformId);
  if (!platform.sshKeys) {
    log.info(`the ${platformId} platform provides no SSH keys; nothing to do`);
    return 0;
  }
  const user = await passwdEntry(root, userName);
  const { createPlatformContext } = await import("../platforms/context");
  const keys = await platform.sshKeys(createPlatformContext({ settings: { timeouts: { httpTotal: SSHKEYS_TOTAL_TIMEOUT_S } } }));
  const { installKeyFragment, METADATA_FRAGMENT } = await import("../users/authorized-keys");
  const written = await installKeyFragment({ root, home: user.home, uid: user.uid, gid: user.gid, fragment: METADATA_FRAGMENT, keys });
  log.info(`installed ${keys.length} SSH key(s) from the ${platformId} metadata`, { user: userName, fragment: written.fragment });
  return 0;
}

/** The user's uid, gid and home from `<root>/etc/passwd`. */
async function passwdEntry(root: string, name: string): Promise<{ uid: number; gid: number; home: string }> {
  const { readRootText } = await import("../root/read");
  // Through the resolver, non-blocking: a FIFO or a symlink to the host's passwd is refused or stays in the root.
  const text = readRootText(root, "/etc/passwd");
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 7) return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
  }
  throw new FlintError("no such user in the root's /etc/passwd", `user ${name}`);
}
