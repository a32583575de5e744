// Equinix Metal (formerly Packet): user data and a JSON metadata document at
// https://metadata.packet.net, the name Ignition and afterburn use. The
// service refuses (406) a request that does not accept `*/*`. As in Ignition,
// a 404 for the user data is an error, not "no config".
// Check-in, with the `phone_home_url` the metadata names: the outcome goes to
// the instance's timeline as Ignition posts it (`<base>/events`, JSON
// `{state, message}`, state `running` or `failed`), and on success the
// phone-home itself is POSTed, as afterburn does, which tells Equinix the
// device is provisioned.

import { FlintError } from "../errors";
import { log } from "../log";
import { json, stringList } from "./keys";
import type { Platform, PlatformContext } from "./types";

const BASE = "https://metadata.packet.net";
const ACCEPT = { headers: { Accept: "*/*" } };
const CHECKIN_TOTAL_MS = 60_000;

async function phoneHomeUrl(ctx: PlatformContext): Promise<string> {
  const doc = json(await ctx.fetchUrl(`${BASE}/metadata`, { ...ACCEPT, notFound: "error" }), "Equinix Metal metadata") as { phone_home_url?: unknown } | undefined;
  if (typeof doc?.phone_home_url !== "string" || !/^https?:\/\//.test(doc.phone_home_url)) throw new FlintError("the metadata names no http(s) phone_home_url", "Equinix Metal metadata");
  return doc.phone_home_url;
}

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
  async checkIn(ctx, outcome) {
    const phoneHome = await phoneHomeUrl(ctx);
    const events = `${phoneHome.replace(/\/phone-home\/?$/, "")}/events`;
    const event = outcome.ok ? { state: "running", message: "Flint: provisioning finished" } : { state: "failed", message: `Flint: ${outcome.reason}` };
    const post = { method: "POST" as const, headers: { "Content-Type": "application/json" }, notFound: "error" as const, totalMs: CHECKIN_TOTAL_MS };
    log.info(`posting "${event.state}" to the Equinix Metal timeline`, { url: events });
    await ctx.fetchUrl(events, { ...post, body: JSON.stringify(event) });
    if (!outcome.ok) return;
    log.info("phoning home to Equinix Metal", { url: phoneHome });
    await ctx.fetchUrl(phoneHome, { ...post, body: "" });
  },
};
