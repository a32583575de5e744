// The umount stage: unmounts what the mount stage mounted, children before
// parents. It follows the mount stage's record when there is one, else the
// config, and leaves alone anything that is not mounted.

import { log } from "../../log";
import { canonicalRoot, resolveInRoot } from "../../root/resolve";
import type { Stage } from "../context";
import { forgetMountRecord, mountEntries, readMountRecord } from "../mount/mounts";

export const umountStage: Stage = async (config, ctx) => {
  const root = await canonicalRoot(ctx.root);
  let records = await readMountRecord(root);
  if (!records) {
    records = [];
    for (const { fs } of mountEntries(config)) records.push({ device: fs.device, path: fs.path, hostPath: await resolveInRoot(root, fs.path, { followLast: true }) });
  }
  if (records.length === 0) return;
  const system = await import("../../system/mount");
  for (const record of [...records].reverse()) {
    if (ctx.dryRun) {
      ctx.actions.push({ kind: "umount", target: record.path });
      continue;
    }
    if (!(await system.mountPoints()).has(record.hostPath)) continue;
    ctx.actions.push({ kind: "umount", target: record.path });
    log.info(`unmounting ${record.path}`);
    await system.umount(record.hostPath);
  }
  if (!ctx.dryRun) await forgetMountRecord(root);
};
