// Platform ids Flatcar's images carry whose Ignition provider reads no user
// config (a "noop" in Flatcar's Ignition): cloud-init-era clouds where the
// only config is `ignition.config.url` or the OEM partition's, which config
// assembly handles for every platform. Known, so that their images boot;
// they add nothing themselves.

import type { Platform } from "./types";

export const NO_CONFIG_IDS = ["cloudsigma", "rackspace", "rackspace-onmetal", "niftycloud", "interoute", "vagrant", "xendom0"];

export function noConfig(id: string): Platform {
  return {
    id,
    needsNetwork: false,
    async fetchConfig() {
      return undefined;
    },
  };
}
