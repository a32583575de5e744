// Equinix Metal (formerly Packet): user data and a JSON metadata document at
// https://metadata.packet.net, the name Ignition and afterburn use. The
// service refuses (406) a request that does not accept `*/*`. As in Ignition,
// a 404 for the user data is an error, not "no config".

import { json, stringList } from "./keys";
import type { Platform } from "./types";

const BASE = "https://metadata.packet.net";
const ACCEPT = { headers: { Accept: "*/*" } };

export const platform: Platform = {
  id: "packet",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${BASE}/userdata`, { ...ACCEPT, notFound: "error" });
  },
  async sshKeys(ctx) {
    const doc = json(await ctx.fetchUrl(`${BASE}/metadata`, ACCEPT), "Equinix Metal metadata") as { ssh_keys?: unknown } | undefined;
    return stringList(doc?.ssh_keys);
  },
  async hostname(ctx) {
    const doc = json(await ctx.fetchUrl(`${BASE}/metadata`, ACCEPT), "Equinix Metal metadata") as { hostname?: unknown } | undefined;
    return typeof doc?.hostname === "string" ? doc.hostname : undefined;
  },
};
