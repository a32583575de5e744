// The `file` platform: the config ships with the image, as `config.ign` on
// the OEM partition. (`<lib>/user.ign` applies on every platform: see
// config assembly.)

import { join } from "node:path";
import { log } from "../log";
import type { Platform } from "./types";

export const platform: Platform = {
  id: "file",
  needsNetwork: false,
  async fetchConfig(ctx) {
    const path = join(ctx.paths.oem, "config.ign");
    const data = await ctx.readLocal(path);
    if (data !== undefined) log.info("found the config in a local file", { path });
    return data;
  },
};
