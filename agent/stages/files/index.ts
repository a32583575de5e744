// The files stage: everything the config puts into the future root, in
// Ignition's order — groups and users, then directories, files and links,
// then systemd units. Every path is checked before anything is written.
// Kernel arguments are the kargs stage's (stages/kargs).

import type { Config } from "../../config/types";
import { FlintError } from "../../errors";
import { DEFAULT_FILE_CAP, fetchToDescriptor, settingsFromConfig } from "../../resource/index";
import { recordedPlatform } from "../fetch/record";
import { canonicalRoot, openDirectory, withRootHeld } from "../../root/resolve";
import { CommitBatch } from "../../root/write";
import type { Stage, StageContext } from "../context";
import { StorageEntries } from "./entries";
import { flushBatch, type NodeWriter } from "./nodes";
import { keyInstaller } from "./keys";
import { applyGroups, applyUsers } from "./passwd";
import { applyPlatformKeys, withRefreshUnit } from "./platform-keys";
import { writeInSteps } from "./write-steps";
import { applyUnits } from "./units";

/**
 * LUKS keys and crypttab lines for the installed system. At boot the disks
 * stage runs before the root is mounted and leaves each key in /run; here it
 * goes into the root. A volume without a key in /run must already have its key
 * in the root (a re-run, or `apply` whose disks stage wrote it).
 */
async function persistLuks(ctx: StageContext, config: Config): Promise<void> {
  const volumes = config.storage?.luks ?? [];
  if (volumes.length === 0 || ctx.dryRun) return;
  const keys = await import("../luks-keys");
  const fresh = [];
  for (const [i, volume] of volumes.entries()) {
    if (await keys.readRunKey(volume.name)) fresh.push({ luks: volume, where: `storage.luks.${i}` });
    else if (!(await keys.rootHasKey(ctx.root, volume.name))) {
      throw new FlintError(`no key for LUKS volume ${volume.name}: not in ${keys.RUN_KEY_DIR} (the disks stage did not run) nor in the root`, `storage.luks.${i}`);
    }
  }
  if (fresh.length) await keys.persistLuksVolumes(fresh, ctx.root);
}

export const filesStage: Stage = async (config: Config, context: StageContext) => {
  const ctx: StageContext = { ...context, root: canonicalRoot(context.root) };
  // Keep appending to the caller's list, whatever the copy.
  ctx.actions = context.actions;
  await withRootHeld(ctx.root, async () => {
    await writeEverything(config, ctx);
    // Last, as Ignition does; at boot only (runDir holds fetch's record), not for `apply`.
    if (ctx.runDir) await (await import("../../ignition-result")).writeIgnitionResult({ ...ctx, runDir: ctx.runDir });
  });
};

/** The stage's work, with the root's descriptor held (see filesStage). */
async function writeEverything(config: Config, ctx: StageContext): Promise<void> {
  // Every path checked, before anything is written.
  const entries = new StorageEntries(config.storage);

  // Timeouts, proxy and extra CAs from the config's ignition section; the
  // platform fetch ran on, whose credentials cloud storage sources use.
  const platform = ctx.runDir ? await recordedPlatform(ctx.runDir) : undefined;
  const settings = ctx.dryRun ? {} : await settingsFromConfig(config, { platform });
  const mounts = ctx.dryRun ? undefined : await thisRunsMounts(ctx.root, config);
  const writer: NodeWriter = {
    ctx,
    mounts,
    swept: new Set(),
    announced: new Set(),
    batch: new CommitBatch(ctx.root, undefined, mounts),
    ids: new Map(),
    fetch: (resource, fd, at, label) => fetchToDescriptor(resource, fd, at, { ...settings, maxBytes: DEFAULT_FILE_CAP, label }),
  };
  // Ignition's order: accounts first (owners by name are looked up in what
  // they create), then the entries step by step (write-steps.ts) into the
  // batch, which is made durable and renamed into place at the end (or
  // earlier, see nodes.ts), then units.
  let failed = true;
  try {
    await committing(writer, async () => {
      await applyGroups(ctx, config.passwd?.groups ?? []);
      await applyUsers(ctx, config.passwd?.users ?? [], keyInstaller(writer));
      if (ctx.platformKeys?.keys.length) await applyPlatformKeys(writer, ctx.platformKeys);
      await persistLuks(ctx, config);
      entries.topsDone();
      await writeInSteps(writer, entries);
      await applyUnits(writer, await withRefreshUnit(ctx, config.systemd?.units ?? []));
    });
    failed = false;
  } finally {
    // The last renames reach the disk; after a failure, its error is the one that counts.
    if (!ctx.dryRun) {
      await writer.batch.settle().catch((e) => {
        if (!failed) throw e;
      });
      writer.batch.discard();
    }
  }
}

/**
 * The mounts the stage may write through: the root's own, and those at the
 * config's filesystem paths (mounted by the mount stage, which checked each
 * holds the config's device). Any other mount met in the root (a bind mount
 * someone made, a filesystem mounted over a directory) is an error, never
 * written through or emptied.
 */
async function thisRunsMounts(root: string, config: Config): Promise<Set<number>> {
  const { mountEntries } = await import("../mount/mounts");
  const mounts = new Set<number>();
  for (const path of ["/", ...mountEntries(config).map((e) => e.fs.path)]) {
    const found = openDirectory(root, path);
    if (!found.dir) continue;
    mounts.add(found.dir.mountId);
    found.dir.close();
  }
  return mounts;
}

/**
 * Runs `work`, then flushes the batch it filled. When `work` fails, what it
 * finished is still committed (the record already lists it) and the failure
 * is thrown.
 */
async function committing(w: NodeWriter, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    await flushBatch(w).catch(() => w.batch.discard());
    throw e;
  }
  await flushBatch(w);
}
