// The mount stage: every storage.filesystems entry with a `path` is mounted
// under the root, parents before children, with its mountOptions. Mount
// points are created inside the root through the resolver.

import { FlintError } from "../../errors";
import { log } from "../../log";
import { canonicalRoot } from "../../root/resolve";
import { ensureDirectory } from "../../root/write";
import type { Stage } from "../context";
import { mountEntries, readMountRecord, writeMountRecord, type MountRecord } from "./mounts";

export const mountStage: Stage = async (config, ctx) => {
  const entries = mountEntries(config);
  if (entries.length === 0) return;
  const root = await canonicalRoot(ctx.root);
  const system = await import("../../system/mount");
  const records: MountRecord[] = ctx.dryRun ? [] : (await readMountRecord(root)) ?? [];
  for (const { fs, where } of entries) {
    const hostPath = await ensureDirectory(root, fs.path, {
      dryRun: ctx.dryRun,
      created: (p) => ctx.actions.push({ kind: "mkdir", target: p, detail: "mode=0755 owner=0:0" }),
    });
    const detail = `${fs.device} type=${fs.format ?? "auto"}${fs.mountOptions?.length ? ` options=${fs.mountOptions.join(",")}` : ""}`;
    if (!ctx.dryRun && (await system.mountPoints()).has(hostPath)) {
      log.info(`${fs.path} is already mounted; leaving it`, { device: fs.device });
      continue;
    }
    ctx.actions.push({ kind: "mount", target: fs.path, detail });
    if (ctx.dryRun) continue;
    log.info(`mounting ${fs.device} at ${fs.path}`, { format: fs.format });
    try {
      await system.mount(fs.device, hostPath, fs.format, fs.mountOptions ?? []);
    } catch (e) {
      throw new FlintError(`cannot mount ${fs.device} at ${fs.path}: ${(e as Error).message}`, where);
    }
    records.push({ device: fs.device, path: fs.path, hostPath });
    await writeMountRecord(root, records);
  }
};
