// The one reader of labelled drives that carry user data: OpenStack's config
// drive (`config-2`, or `CONFIG-2` as vfat shows it) and cloud-init's NoCloud
// seed (`cidata`/`CIDATA`), as OpenStack, CloudStack, KubeVirt, Nutanix,
// PowerVS, IBM Cloud and Proxmox VE hand them over. A drive is found by its
// label under `/dev/disk/by-label`, mounted read-only (type probed) only
// while it is read, and unmounted afterwards (media.ts).

import { join } from "node:path";
import { log } from "../log";
import { exists, withMountedReadOnly } from "./media";
import type { PlatformContext } from "./types";

export interface DriveKind {
  /** What the log calls it. */
  name: string;
  /** Filesystem labels, tried in order. */
  labels: string[];
  /** Files that hold the user data, tried in order; the first present one wins. */
  files: string[];
  /** A file to pass over (e.g. Proxmox VE's cloud-config), tried on the next one. */
  skip?(data: Buffer): string | undefined;
}

/** OpenStack's config drive; `files` differ per cloud (CloudStack keeps its own path). */
export const CONFIG_DRIVE_LABELS = ["config-2", "CONFIG-2"];
export const CONFIG_DRIVE: DriveKind = { name: "config drive", labels: CONFIG_DRIVE_LABELS, files: ["openstack/latest/user_data"] };
/** cloud-init's NoCloud seed. */
export const NOCLOUD: DriveKind = { name: "NoCloud (cidata) drive", labels: ["cidata", "CIDATA"], files: ["user-data"] };

/** Each drive waits in steps of this (as Ignition looks once a second). */
const POLL_MS = 1000;

/** The first device of `kind` present now, or a test's directory standing for the config drive. */
export async function presentDrive(ctx: PlatformContext, kind: DriveKind): Promise<string | undefined> {
  if (kind.labels === CONFIG_DRIVE_LABELS && ctx.paths.configDriveDir) return ctx.paths.configDriveDir;
  for (const label of kind.labels) {
    const device = join(ctx.paths.byLabel, label);
    if (await exists(device)) return device;
  }
  return undefined;
}

/** Reads `path` from the drive (a directory in tests, else the device mounted read-only). */
export async function readFromDrive(ctx: PlatformContext, drive: string, path: string): Promise<Buffer | undefined> {
  if (drive === ctx.paths.configDriveDir) return ctx.readLocal(join(drive, path));
  const result = await withMountedReadOnly(drive, [undefined], (dir) => ctx.readLocal(join(dir, path)));
  if (!result.mounted) throw result.error;
  return result.value;
}

export interface DriveWait {
  /** Give up (no config) after this long; undefined = wait until the drive appears, as Ignition does on Nutanix, PowerVS and KubeVirt. */
  waitMs?: number;
  signal?: AbortSignal;
}

export type DriveAnswer = { from: string; data: Buffer | undefined };

/**
 * A metadata service racing a drive (OpenStack, CloudStack), as Ignition
 * races them: the first answer wins (logged), the other is stopped through
 * the signal; when both fail, the service's error (the first) is thrown.
 */
export async function firstAnswer(tries: ((signal: AbortSignal) => Promise<DriveAnswer>)[]): Promise<Buffer | undefined> {
  const stop = new AbortController();
  const running = tries.map((t) => t(stop.signal));
  try {
    const answer = await Promise.any(running);
    log.info(answer.data ? `found the config on ${answer.from}` : `no user data on ${answer.from}`);
    return answer.data;
  } catch (e) {
    throw (e as AggregateError).errors[0];
  } finally {
    stop.abort();
    for (const r of running) r.catch(() => undefined);
  }
}

/**
 * Waits for a drive of `kind`, then reads its user data. Resolves `undefined`
 * when the wait ran out; rejects when `signal` stops it.
 */
export async function userDataFromDrive(ctx: PlatformContext, kind: DriveKind, wait: DriveWait = {}): Promise<DriveAnswer | undefined> {
  const deadline = wait.waitMs === undefined ? Infinity : Date.now() + wait.waitMs;
  for (;;) {
    if (wait.signal?.aborted) throw new Error(`stopped looking for the ${kind.name}`);
    const drive = await presentDrive(ctx, kind);
    if (drive) return { from: `the ${kind.name} ${drive}`, data: await readFirstFile(ctx, kind, drive) };
    if (Date.now() >= deadline) {
      log.info(`no ${kind.name} (${kind.labels.join(", ")}) appeared within ${wait.waitMs! / 1000} s`);
      return undefined;
    }
    log.debug(`waiting for the ${kind.name}`, { labels: kind.labels.join(",") });
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The first of the kind's files that is present, not empty and not passed over. */
async function readFirstFile(ctx: PlatformContext, kind: DriveKind, drive: string): Promise<Buffer | undefined> {
  for (const file of kind.files) {
    const data = await readFromDrive(ctx, drive, file);
    if (!data?.length) continue;
    const why = kind.skip?.(data);
    if (why) {
      log.info(`passing over ${file} on the ${kind.name}: ${why}`);
      continue;
    }
    return data;
  }
  return undefined;
}

/**
 * Races drives of several kinds (KubeVirt: NoCloud or config drive): the
 * first drive found answers; a drive found but unreadable is an error at
 * once (not a reason to wait on for the other kind); `undefined` when the
 * wait ran out for all of them.
 */
export async function userDataFromAnyDrive(ctx: PlatformContext, kinds: DriveKind[], wait: DriveWait = {}): Promise<DriveAnswer | undefined> {
  const stop = new AbortController();
  const relay = () => stop.abort();
  wait.signal?.addEventListener("abort", relay, { once: true });
  try {
    return await new Promise<DriveAnswer | undefined>((resolve, reject) => {
      let left = kinds.length;
      for (const kind of kinds) {
        userDataFromDrive(ctx, kind, { ...wait, signal: stop.signal }).then(
          (answer) => (answer ? resolve(answer) : --left === 0 && resolve(undefined)),
          (e: Error) => (stop.signal.aborted && !wait.signal?.aborted ? undefined : reject(e)),
        );
      }
    });
  } finally {
    stop.abort();
    wait.signal?.removeEventListener("abort", relay);
  }
}
