// OpenStack: the config drive (filesystem label `config-2`, mounted by the
// initramfs) first, then the metadata service.

import { join } from "node:path";
import { log } from "../log";
import { json, stringList } from "./keys";
import { withMedia } from "./media";
import type { Platform, PlatformContext } from "./types";

const BASE = "http://169.254.169.254/openstack/latest";

/** A file from the config drive (label `config-2`), mounted read-only while it is read. */
function fromDrive(ctx: PlatformContext, path: string): Promise<Buffer | undefined> {
  return withMedia({ device: ctx.paths.configDriveDevice, formats: ["iso9660", "vfat"], fallback: ctx.paths.configDrive }, (dir) => ctx.readLocal(join(dir, path)));
}

async function metaData(ctx: PlatformContext): Promise<{ public_keys?: unknown; hostname?: unknown } | undefined> {
  const local = await fromDrive(ctx, "openstack/latest/meta_data.json");
  return json(local ?? (await ctx.fetchUrl(`${ctx.endpoint(BASE)}/meta_data.json`)), "OpenStack meta_data.json") as { public_keys?: unknown; hostname?: unknown } | undefined;
}

export const platform: Platform = {
  id: "openstack",
  needsNetwork: true,
  async fetchConfig(ctx) {
    const local = await fromDrive(ctx, "openstack/latest/user_data");
    if (local !== undefined) {
      log.info("found the config on the OpenStack config drive", { path: ctx.paths.configDrive });
      return local;
    }
    return ctx.fetchUrl(`${ctx.endpoint(BASE)}/user_data`);
  },
  async sshKeys(ctx) {
    return stringList((await metaData(ctx))?.public_keys);
  },
  async hostname(ctx) {
    const name = (await metaData(ctx))?.hostname;
    return typeof name === "string" ? name : undefined;
  },
};
