// NVIDIA BlueField DPUs: the config is pushed through the boot FIFO, read
// (after loading mlxbf_bootctl) from
// `/sys/bus/platform/devices/MLNXBF04:00/bootfifo`, NULs trimmed; an empty
// FIFO is no config.

import { join } from "node:path";
import { log } from "../log";
import { loadKernelModule } from "../system/modprobe";
import type { Platform } from "./types";

export const platform: Platform = {
  id: "nvidiabluefield",
  needsNetwork: false,
  async fetchConfig(ctx) {
    await loadKernelModule("mlxbf_bootctl");
    const path = join(ctx.paths.sysfs, "bus/platform/devices/MLNXBF04:00/bootfifo");
    const raw = await ctx.readLocal(path);
    const text = raw?.toString("latin1").replace(/^\0+|\0+$/g, "");
    if (!text) {
      log.info("the BlueField boot FIFO is empty or missing; no config", { path });
      return undefined;
    }
    return Buffer.from(text, "latin1");
  },
};
