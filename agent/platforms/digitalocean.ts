// DigitalOcean: user data and a JSON metadata document on the link-local
// service. As in Ignition, a 404 for the user data is an error: the service
// always has the path, so a 404 means something is wrong, not "no config".

import { json, stringList, text } from "./keys";
import type { Platform } from "./types";

const BASE = "http://169.254.169.254/metadata/v1";

export const platform: Platform = {
  id: "digitalocean",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${BASE}/user-data`, { notFound: "error" });
  },
  async sshKeys(ctx) {
    const doc = json(await ctx.fetchUrl(`${BASE}.json`), "DigitalOcean metadata") as { public_keys?: unknown } | undefined;
    return stringList(doc?.public_keys);
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${BASE}/hostname`));
  },
};
