// The `file` platform: the config ships with the image, in the initramfs
// (`<lib>/user.ign`) or on the OEM partition (`config.ign`).

import { join } from "node:path";
import { log } from "../log";
import type { Platform } from "./types";

export const platform: Platform = {
  id: "file",
  needsNetwork: false,
  async fetchConfig(ctx) {
    for (const path of [join(ctx.paths.lib, "user.ign"), join(ctx.paths.oem, "config.ign")]) {
      const data = await ctx.readLocal(path);
      if (data !== undefined) {
        log.info("found the config in a local file", { path });
        return data;
      }
    }
    return undefined;
  },
};
