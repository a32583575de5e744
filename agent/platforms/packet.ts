// Equinix Metal (formerly Packet): user data and a JSON metadata document.

import { json, stringList } from "./keys";
import type { Platform } from "./types";

const BASE = "https://metadata.platformequinix.com";

export const platform: Platform = {
  id: "packet",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${ctx.endpoint(BASE)}/userdata`);
  },
  async sshKeys(ctx) {
    const doc = json(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/metadata`), "Equinix Metal metadata") as { ssh_keys?: unknown } | undefined;
    return stringList(doc?.ssh_keys);
  },
  async hostname(ctx) {
    const doc = json(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/metadata`), "Equinix Metal metadata") as { hostname?: unknown } | undefined;
    return typeof doc?.hostname === "string" ? doc.hostname : undefined;
  },
};
