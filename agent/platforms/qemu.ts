// QEMU: the config is a fw_cfg blob (`-fw_cfg name=opt/org.flatcar-linux/config,file=…`),
// read from sysfs once the qemu_fw_cfg module is loaded.

import { access } from "node:fs/promises";
import { join } from "node:path";
import { log } from "../log";
import { loadKernelModule } from "../system/modprobe";
import type { Platform } from "./types";

const FW_CFG_NAMES = ["opt/org.flatcar-linux/config", "opt/com.coreos/config"];

export const platform: Platform = {
  id: "qemu",
  needsNetwork: false,
  async fetchConfig(ctx) {
    const fwCfg = join(ctx.paths.sysfs, "firmware/qemu_fw_cfg");
    if (!(await exists(fwCfg)) && ctx.paths.sysfs === "/sys") {
      // Only the real sysfs can gain the directory by loading the module.
      await loadKernelModule("qemu_fw_cfg").catch((e: Error) => log.warn(`cannot load qemu_fw_cfg: ${e.message}`));
    }
    for (const name of FW_CFG_NAMES) {
      const path = join(fwCfg, "by_name", name, "raw");
      const data = await ctx.readLocal(path);
      if (data !== undefined) {
        log.info("found the config in QEMU fw_cfg", { name });
        return data;
      }
    }
    log.info("no config in QEMU fw_cfg", { looked: FW_CFG_NAMES.join(",") });
    return undefined;
  },
};

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}
