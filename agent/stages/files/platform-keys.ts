// The platform's SSH keys on the first boot: written into the user's
// `authorized_keys.d/flint-metadata` by the files stage itself, so that they
// are there whether or not the root has Flint. Where the root has the refresh
// unit (flint-sshkeys@.service), it is enabled too, to pick up keys added to
// the instance later; a root without it is left as it is.

import type { Unit } from "../../config/types";
import { FlintError } from "../../errors";
import { log } from "../../log";
import { findUser } from "../../root/accounts";
import { inspectInRoot } from "../../root/resolve";
import type { PlatformKeys, StageContext } from "../context";
import { writeKeyFragment } from "./keys";
import type { NodeWriter } from "./nodes";
import { record } from "./record";

export const REFRESH_TEMPLATE = "flint-sshkeys@.service";
const UNIT_DIRS = ["/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"];

export const refreshUnit = (user: string): string => `flint-sshkeys@${user}.service`;

export async function applyPlatformKeys(writer: NodeWriter, platformKeys: PlatformKeys): Promise<void> {
  const { ctx } = writer;
  const { user, keys } = platformKeys;
  const account = findUser(ctx.root, user);
  // The fetch stage put the user in the config, so it exists unless the config deleted it.
  if (!account) throw new FlintError(`the platform has SSH keys for ${JSON.stringify(user)}, who is not in the root's /etc/passwd`, "platform SSH keys");
  record(ctx, "ssh-keys", user, `${keys.length} key(s) from the platform metadata`);
  if (ctx.dryRun) return;
  const { METADATA_FRAGMENT } = await import("../../users/authorized-keys");
  await writeKeyFragment(writer, account, METADATA_FRAGMENT, keys);
}

/**
 * The config's units, with the refresh unit enabled first when the root has
 * its template and the config says nothing of it (the config always wins).
 */
export async function withRefreshUnit(ctx: StageContext, units: Unit[]): Promise<Unit[]> {
  const keys = ctx.platformKeys;
  if (!keys) return units;
  const name = refreshUnit(keys.user);
  if (units.some((u) => u.name === name)) return units;
  for (const dir of UNIT_DIRS) {
    if (inspectInRoot(ctx.root, `${dir}/${REFRESH_TEMPLATE}`).stat) return [{ name, enabled: true }, ...units];
  }
  log.info(`the root has no ${REFRESH_TEMPLATE}: the SSH keys from this boot stay, and are not refreshed on later boots`);
  return units;
}
