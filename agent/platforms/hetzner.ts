// Hetzner Cloud: user data, keys as a JSON (or YAML block) list, plain-text hostname.

import { lines, text } from "./keys";
import type { Platform } from "./types";

const BASE = "http://169.254.169.254/hetzner/v1";

export const platform: Platform = {
  id: "hetzner",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${BASE}/userdata`);
  },
  async sshKeys(ctx) {
    const data = await ctx.fetchUrl(`${BASE}/metadata/public-keys`);
    const body = text(data) ?? "";
    if (body.startsWith("[")) {
      try {
        return (JSON.parse(body) as unknown[]).filter((k): k is string => typeof k === "string");
      } catch {
        // fall through to the YAML list form
      }
    }
    return lines(data).map((l) => l.replace(/^-\s*/, "").replace(/^"(.*)"$/, "$1")).filter(Boolean);
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${BASE}/metadata/hostname`));
  },
};
