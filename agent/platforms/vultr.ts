// Vultr: user data, and a JSON metadata document with keys and hostname.

import { json, stringList } from "./keys";
import type { Platform } from "./types";

const BASE = "http://169.254.169.254";

export const platform: Platform = {
  id: "vultr",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${ctx.endpoint(BASE)}/user-data/user-data`);
  },
  async sshKeys(ctx) {
    const doc = json(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/v1.json`), "Vultr metadata") as Record<string, unknown> | undefined;
    return stringList(doc?.["public-keys"]);
  },
  async hostname(ctx) {
    const doc = json(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/v1.json`), "Vultr metadata") as Record<string, unknown> | undefined;
    return typeof doc?.hostname === "string" ? doc.hostname : undefined;
  },
};
