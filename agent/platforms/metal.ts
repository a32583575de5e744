// Bare metal and PXE: the only config is the one `ignition.config.url` names,
// which config assembly handles for every platform; the platform adds none.

import type { Platform } from "./types";

export const platform: Platform = {
  id: "metal",
  needsNetwork: false,
  async fetchConfig() {
    return undefined;
  },
};
