// Platforms whose user data is one URL on a link-local metadata service, as
// Ignition reads them: one GET (with the platform's headers), a 404 meaning
// "no config" unless said otherwise, and the body decoded as the service
// encodes it. Akamai (a token first) and the larger services have modules
// of their own.

import { FlintError } from "../errors";
import { log } from "../log";
import type { MetadataRequest, Platform } from "./types";

export interface UserDataUrl {
  id: string;
  url: string;
  request?: MetadataRequest;
  /** How the service encodes the user data (Oracle Cloud: base64). */
  encoding?: "base64";
}

export function userDataAtUrl(spec: UserDataUrl): Platform {
  return {
    id: spec.id,
    needsNetwork: true,
    async fetchConfig(ctx) {
      const data = await ctx.fetchUrl(spec.url, spec.request);
      if (data === undefined) log.info(`the ${spec.id} metadata service has no user data`, { url: spec.url });
      return data && spec.encoding === "base64" ? decodeBase64(data, `${spec.id} user data`) : data;
    },
  };
}

/** Strict base64 (whitespace allowed): a body that is not base64 is an error, not garbage to parse. */
export function decodeBase64(data: Buffer, what: string): Buffer {
  const text = data.toString("latin1").replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw new FlintError("the user data is not base64", what);
  return Buffer.from(text, "base64");
}

const METADATA = "http://169.254.169.254";

/** Alibaba Cloud ECS. */
export const aliyun = userDataAtUrl({ id: "aliyun", url: "http://100.100.100.200/latest/user-data" });
/** Exoscale (its CloudStack-style service at the link-local address). */
export const exoscale = userDataAtUrl({ id: "exoscale", url: `${METADATA}/1.0/user-data` });
/** UpCloud. */
export const upcloud = userDataAtUrl({ id: "upcloud", url: `${METADATA}/metadata/v1/user_data` });
/** Oracle Cloud (OCI): IMDS v2 wants `Authorization: Bearer Oracle`, answers 429 when asked too fast, and holds the user data in base64. */
export const oraclecloud = userDataAtUrl({
  id: "oraclecloud",
  url: `${METADATA}/opc/v2/instance/metadata/user_data`,
  request: { headers: { Authorization: "Bearer Oracle" }, retryStatuses: [429] },
  encoding: "base64",
});
/** Scaleway: user data only to a client whose source port is below 1024 (proof that it runs as root); each try picks one at random. */
export const scaleway = userDataAtUrl({
  id: "scaleway",
  url: "http://169.254.42.42/user_data/cloud-init",
  request: { localPort: () => 1 + Math.floor(Math.random() * 1022) },
});
