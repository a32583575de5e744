// DigitalOcean: user data and a JSON metadata document on the link-local service.

import { json, stringList, text } from "./keys";
import type { Platform } from "./types";

const BASE = "http://169.254.169.254";

export const platform: Platform = {
  id: "digitalocean",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${ctx.endpoint(BASE)}/metadata/v1/user-data`);
  },
  async sshKeys(ctx) {
    const doc = json(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/metadata/v1.json`), "DigitalOcean metadata") as { public_keys?: unknown } | undefined;
    return stringList(doc?.public_keys);
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/metadata/v1/hostname`));
  },
};
