// Azure: custom data from IMDS user data (base64); the OVF provisioning
// CD-ROM (`ovf-env.xml`, mounted by the initramfs) as the fallback.

import { join } from "node:path";
import { log } from "../log";
import { json, text } from "./keys";
import { withMedia } from "./media";
import type { Platform, PlatformContext } from "./types";

const BASE = "http://169.254.169.254/metadata/instance/compute";
const API = "api-version=2021-01-01";
const IMDS = { headers: { Metadata: "true" } };

async function fromOvf(ctx: PlatformContext): Promise<Buffer | undefined> {
  const xml = await withMedia({ device: ctx.paths.azureOvfDevice, formats: ["udf", "iso9660"], fallback: ctx.paths.azureOvf }, (dir) => ctx.readLocal(join(dir, "ovf-env.xml")));
  const match = xml && /<(?:\w+:)?CustomData>([^<]*)<\/(?:\w+:)?CustomData>/.exec(xml.toString("utf8"));
  if (!match) return undefined;
  log.info("found the config in the Azure OVF environment", { path: ctx.paths.azureOvf });
  return Buffer.from(match[1]!.trim(), "base64");
}

export const platform: Platform = {
  id: "azure",
  needsNetwork: true,
  async fetchConfig(ctx) {
    let encoded: string | undefined;
    try {
      encoded = text(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/userData?${API}&format=text`, IMDS));
    } catch (e) {
      const ovf = await fromOvf(ctx);
      if (ovf) return ovf;
      throw e;
    }
    if (encoded) return Buffer.from(encoded, "base64");
    return fromOvf(ctx);
  },
  async sshKeys(ctx) {
    const doc = json(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/publicKeys?${API}`, IMDS), "Azure IMDS publicKeys");
    return Array.isArray(doc) ? doc.map((k: { keyData?: unknown }) => (typeof k?.keyData === "string" ? k.keyData.trim() : "")).filter(Boolean) : [];
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${ctx.endpoint(BASE)}/osProfile/computerName?${API}&format=text`, IMDS));
  },
};
