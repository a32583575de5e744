// The umount stage: unmounts what the mount stage of this run mounted, as
// its record in /run says, children before parents, and nothing else: not a
// filesystem that was already mounted (the root itself included), not one
// mounted since on the same path. Only a plan, which has no record, works
// from the config.

import { log } from "../../log";
import { canonicalRoot, inspectIfWalkable } from "../../root/resolve";
import type { Stage } from "../context";
import { forgetMountRecord, mountEntries, readMountRecord } from "../mount/mounts";

export const umountStage: Stage = async (config, ctx) => {
  const root = canonicalRoot(ctx.root);
  if (ctx.dryRun) {
    for (const { fs } of [...mountEntries(config)].reverse()) ctx.actions.push({ kind: "umount", target: fs.path });
    return;
  }
  const records = (await readMountRecord(root)) ?? [];
  if (records.length === 0) return;
  const system = await import("../../system/mount");
  for (const record of [...records].reverse()) {
    // The path again, as the root stands now: a directory swapped for a symlink since must not send umount elsewhere.
    const hostPath = inspectIfWalkable(root, record.path, { followLast: true })?.hostPath;
    const top = hostPath === record.hostPath ? await system.topMountAt(record.hostPath) : undefined;
    if (!top || top.id !== record.mountId || top.majorMinor !== record.majorMinor) {
      log.warn(`${record.path} is no longer the mount Flint made there; leaving it`, { device: record.device });
      continue;
    }
    ctx.actions.push({ kind: "umount", target: record.path });
    log.info(`unmounting ${record.path}`);
    await system.umount(record.hostPath);
  }
  await forgetMountRecord(root);
};
