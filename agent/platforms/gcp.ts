// Google Compute Engine: the `user-data` instance attribute; keys from the
// instance's and (unless blocked) the project's `ssh-keys` as `user:key` lines.

import { lines, text } from "./keys";
import type { Platform } from "./types";

const BASE = "http://metadata.google.internal/computeMetadata/v1";
const FLAVOR = { headers: { "Metadata-Flavor": "Google" } };

export const platform: Platform = {
  id: "gcp",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${ctx.endpoint(BASE)}/instance/attributes/user-data`, FLAVOR);
  },
  async sshKeys(ctx) {
    const base = ctx.endpoint(BASE);
    const entries = lines(await ctx.fetchUrl(`${base}/instance/attributes/ssh-keys`, FLAVOR));
    const blocked = text(await ctx.fetchUrl(`${base}/instance/attributes/block-project-ssh-keys`, FLAVOR)) === "true";
    if (!blocked) entries.push(...lines(await ctx.fetchUrl(`${base}/project/attributes/ssh-keys`, FLAVOR)));
    // `user:ssh-ed25519 AAAA… comment`: the key is everything after the first colon.
    return entries.map((e) => e.slice(e.indexOf(":") + 1).trim()).filter(Boolean);
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/instance/hostname`, FLAVOR));
  },
};
