// Vultr: user data at `/user-data/user-data`; keys (one a line) and the
// hostname from `/v1/`, as afterburn reads them.

import { lines, text } from "./keys";
import type { Platform } from "./types";

const BASE = "http://169.254.169.254";

export const platform: Platform = {
  id: "vultr",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${BASE}/user-data/user-data`);
  },
  async sshKeys(ctx) {
    return lines(await ctx.fetchUrl(`${BASE}/v1/public-keys`));
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${BASE}/v1/hostname`));
  },
};
