// VMware: the config is in guestinfo, read with vmware-rpctool:
// `guestinfo.ignition.config.data` and its `.encoding`, each falling back to
// the same-named property of the vApp/OVF environment in `guestinfo.ovfenv`
// (as Ignition reads them). Encodings: none, base64/b64, and
// gz+base64/gzip+base64/gz+b64/gzip+b64.

import { gunzipSync } from "node:zlib";
import { FlintError } from "../errors";
import { log } from "../log";
import { DEFAULT_CONFIG_CAP } from "../resource/index";
import { readGuestInfo } from "../system/vmware-rpctool";
import type { Platform } from "./types";

const DATA = "guestinfo.ignition.config.data";
const ENCODING = "guestinfo.ignition.config.data.encoding";

/** The `<Property oe:key="…" oe:value="…"/>` pairs of an OVF environment document. */
export function ovfProperties(xml: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const element of xml.match(/<(?:\w+:)?Property\b[^>]*>/g) ?? []) {
    const attribute = (name: string) => new RegExp(`(?:\\w+:)?${name}\\s*=\\s*("([^"]*)"|'([^']*)')`).exec(element);
    const key = attribute("key");
    const value = attribute("value");
    if (key && value) properties.set(unescapeXml(key[2] ?? key[3]!), unescapeXml(value[2] ?? value[3]!));
  }
  return properties;
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp|#(\d+)|#x([0-9a-fA-F]+));/g, (_, name: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" } as Record<string, string>)[name]!;
  });
}

export function decodeGuestInfo(data: string, encoding: string): Buffer {
  switch (encoding) {
    case "":
      return Buffer.from(data, "utf8");
    case "base64":
    case "b64":
      return Buffer.from(data, "base64");
    case "gz+base64":
    case "gzip+base64":
    case "gz+b64":
    case "gzip+b64":
      return gunzipSync(Buffer.from(data, "base64"), { maxOutputLength: DEFAULT_CONFIG_CAP });
    default:
      throw new FlintError(`unknown encoding ${JSON.stringify(encoding)} (known: base64, b64, gz+base64, gzip+base64, gz+b64, gzip+b64)`, ENCODING);
  }
}

export const platform: Platform = {
  id: "vmware",
  needsNetwork: false,
  async fetchConfig() {
    let ovf = new Map<string, string>();
    const environment = await readGuestInfo("guestinfo.ovfenv");
    if (environment?.trim()) {
      ovf = ovfProperties(environment);
      log.debug("read the OVF environment from guestinfo", { properties: ovf.size });
    }
    const data = (await readGuestInfo(DATA)) ?? ovf.get(DATA);
    if (data === undefined || data.trim() === "") return undefined;
    const encoding = ((await readGuestInfo(ENCODING)) ?? ovf.get(ENCODING) ?? "").trim();
    log.info("found the config in VMware guestinfo", { encoding: encoding || "none" });
    return decodeGuestInfo(data, encoding);
  },
};
