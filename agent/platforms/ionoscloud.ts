// IONOS Cloud has no metadata service: before the first start it writes the
// user data into the boot volume, at cloud-init's NoCloud seed
// `/var/lib/cloud/seed/nocloud/user-data`. Flint reads it from the root
// filesystem (label ROOT), mounted read-only while read. A cloud-config
// there (IONOS's own tools write those) is not a config for Flint.

import { join } from "node:path";
import { log } from "../log";
import { exists, withMountedReadOnly } from "./media";
import type { Platform } from "./types";

const SEED = "var/lib/cloud/seed/nocloud/user-data";

export const platform: Platform = {
  id: "ionoscloud",
  needsNetwork: false,
  async fetchConfig(ctx) {
    const root = join(ctx.paths.byLabel, "ROOT");
    if (!(await exists(root))) {
      log.info("no ROOT filesystem to read the NoCloud seed from; no config", { device: root });
      return undefined;
    }
    const result = await withMountedReadOnly(root, [undefined], (dir) => ctx.readLocal(join(dir, SEED)));
    if (!result.mounted) throw result.error;
    const data = result.value;
    if (!data?.length) return undefined;
    if (data.subarray(0, 13).toString("latin1") === "#cloud-config") {
      log.info(`the NoCloud seed /${SEED} is a cloud-config; no config for Flint`);
      return undefined;
    }
    log.info("found the config in the NoCloud seed on the ROOT filesystem", { path: `/${SEED}` });
    return data;
  },
};
