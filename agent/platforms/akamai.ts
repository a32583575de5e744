// Akamai (Linode): the Metadata Service wants a token first — `PUT /v1/token`
// with `Metadata-Token-Expiry-Seconds` — then `GET /v1/user-data` with
// `Metadata-Token` and an Accept it serves (`*/*`; its default is refused).
// The user data is stored base64-encoded and may be gzipped. As in Ignition,
// any failure (a 404 included) is an error.

import { gunzipSync } from "node:zlib";
import { FlintError } from "../errors";
import { DEFAULT_CONFIG_CAP } from "../resource/index";
import { text } from "./keys";
import type { Platform } from "./types";
import { decodeBase64 } from "./user-data-url";

const BASE = "http://169.254.169.254/v1";
const TOKEN_TTL_S = "300";

export const platform: Platform = {
  id: "akamai",
  needsNetwork: true,
  async fetchConfig(ctx) {
    const token = text(await ctx.fetchUrl(`${BASE}/token`, { method: "PUT", headers: { Accept: "text/plain", "Metadata-Token-Expiry-Seconds": TOKEN_TTL_S }, notFound: "error" }));
    if (!token) throw new FlintError("the Metadata Service gave an empty token", "akamai platform");
    const encoded = await ctx.fetchUrl(`${BASE}/user-data`, { headers: { Accept: "*/*", "Metadata-Token": token }, notFound: "error" });
    const data = decodeBase64(encoded!, "akamai user data");
    // gzip's magic number: the service keeps what the user uploaded, compressed or not.
    return data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data, { maxOutputLength: DEFAULT_CONFIG_CAP }) : data;
  },
};
