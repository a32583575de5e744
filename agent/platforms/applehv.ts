// Apple Hypervisor (macOS): Ignition GETs the config from the host over
// vsock (CID 2, port 1024). Node cannot open an AF_VSOCK socket, so Flint
// cannot read it yet: the id is known, and fails saying so rather than
// booting without the config the user gave.

import { FlintError } from "../errors";
import type { Platform } from "./types";

export const platform: Platform = {
  id: "applehv",
  needsNetwork: false,
  async fetchConfig() {
    throw new FlintError("the config comes over vsock (host CID 2, port 1024), which Flint cannot open; pass it with ignition.config.url instead", "applehv platform");
  },
};
