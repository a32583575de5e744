// AWS EC2: IMDSv2 (a session token from a PUT, then GETs carrying it). Only a
// service without the token endpoint (403, 404 or 405 to the PUT, as before
// IMDSv2 existed or with it turned off) is read tokenless, as IMDSv1; any
// other failure of the PUT is an error. A 404 user-data means no config.

import { log } from "../log";
import { HttpStatusError } from "../resource/index";
import { lines, text } from "./keys";
import type { MetadataRequest, Platform, PlatformContext } from "./types";

const BASE = "http://169.254.169.254";
const VERSION = "2009-04-04";
const TOKEN_TTL_S = "21600";
const NO_TOKEN_ENDPOINT = [403, 404, 405];

/** One session per context: the token is good for hours, a first boot takes minutes. */
const sessions = new WeakMap<PlatformContext, Promise<MetadataRequest>>();

function session(ctx: PlatformContext): Promise<MetadataRequest> {
  let pending = sessions.get(ctx);
  if (!pending) {
    pending = openSession(ctx);
    sessions.set(ctx, pending);
  }
  return pending;
}

async function openSession(ctx: PlatformContext): Promise<MetadataRequest> {
  try {
    const token = text(await ctx.fetchUrl(`${BASE}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": TOKEN_TTL_S }, notFound: "error" }));
    if (!token) throw new HttpStatusError(404, "IMDSv2 token", "Not Found");
    return { headers: { "X-aws-ec2-metadata-token": token } };
  } catch (e) {
    if (!(e instanceof HttpStatusError) || !NO_TOKEN_ENDPOINT.includes(e.status)) throw e;
    log.info(`the metadata service has no IMDSv2 token endpoint (HTTP ${e.status}); using IMDSv1`);
    return {};
  }
}

export const platform: Platform = {
  id: "aws",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${BASE}/${VERSION}/user-data`, await session(ctx));
  },
  async sshKeys(ctx) {
    const base = `${BASE}/${VERSION}/meta-data/public-keys`;
    const auth = await session(ctx);
    const keys: string[] = [];
    // The listing is `0=name` a line; each index has an openssh-key entry.
    for (const entry of lines(await ctx.fetchUrl(`${base}/`, auth))) {
      const index = entry.split("=")[0];
      keys.push(...lines(await ctx.fetchUrl(`${base}/${index}/openssh-key`, auth)));
    }
    return keys;
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${BASE}/${VERSION}/meta-data/hostname`, await session(ctx)));
  },
};
