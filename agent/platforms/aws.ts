// AWS EC2: IMDSv2 (a session token from a PUT, then GETs carrying it), falling
// back to IMDSv1 when the token endpoint refuses. A 404 user-data means no config.

import { log } from "../log";
import { HttpStatusError } from "../resource/index";
import { lines, text } from "./keys";
import type { MetadataRequest, Platform, PlatformContext } from "./types";

const BASE = "http://169.254.169.254";
const VERSION = "2009-04-04";

async function session(ctx: PlatformContext): Promise<MetadataRequest> {
  const base = ctx.endpoint(BASE);
  try {
    const token = text(await ctx.fetchUrl(`${base}/latest/api/token`, { method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" } }));
    if (token) return { headers: { "X-aws-ec2-metadata-token": token } };
  } catch (e) {
    if (!(e instanceof HttpStatusError)) throw e;
  }
  log.info("no IMDSv2 token; using IMDSv1");
  return {};
}

export const platform: Platform = {
  id: "aws",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${ctx.endpoint(BASE)}/${VERSION}/user-data`, await session(ctx));
  },
  async sshKeys(ctx) {
    const base = `${ctx.endpoint(BASE)}/${VERSION}/meta-data/public-keys`;
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
    return text(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/${VERSION}/meta-data/hostname`, await session(ctx)));
  },
};
