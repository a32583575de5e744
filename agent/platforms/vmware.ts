// VMware: the config is in guestinfo, read with vmware-rpctool:
// `guestinfo.ignition.config.data` and its `.encoding`, each falling back to
// the same-named property of the vApp/OVF environment in `guestinfo.ovfenv`
// (as Ignition reads them). Encodings: none, base64/b64, and
// gz+base64/gzip+base64/gz+b64/gzip+b64.

import { gunzipSync } from "node:zlib";
import { FlintError } from "../errors";
import { log } from "../log";
import { DEFAULT_CONFIG_CAP } from "../resource/index";
import { readGuestInfo, writeGuestInfo } from "../system/vmware-rpctool";
import type { Platform } from "./types";
import { unescapeXml } from "./xml";

const DATA = "guestinfo.ignition.config.data";
const ENCODING = "guestinfo.ignition.config.data.encoding";
const OVF_ENV = "guestinfo.ovfenv";
/** What deletion leaves, as Ignition does: guestinfo cannot be emptied, so `{}` in base64. */
export const DELETED_DATA = "e30K";
export const DELETED_ENCODING = "base64";

/** An attribute of a `<Property …>` element, unescaped (any namespace prefix, either quote). */
function propertyAttribute(element: string, name: string): string | undefined {
  const match = new RegExp(`\\s(?:\\w+:)?${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(element);
  return match ? unescapeXml(match[1] ?? match[2]!) : undefined;
}

/** The `<Property oe:key="…" oe:value="…"/>` pairs of an OVF environment document. */
export function ovfProperties(xml: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const element of xml.match(/<(?:\w+:)?Property\b[^>]*>/g) ?? []) {
    const key = propertyAttribute(element, "key");
    const value = propertyAttribute(element, "value");
    if (key !== undefined && value !== undefined) properties.set(key, value);
  }
  return properties;
}

/** The OVF environment without the config's properties (each element and its line); `undefined` when it had none. */
export function withoutConfigProperties(xml: string): string | undefined {
  let pruned = false;
  const out = xml.replace(/[ \t]*<(?:\w+:)?Property\b[^>]*>(?:\s*<\/(?:\w+:)?Property>)?[ \t]*\r?\n?/g, (element) => {
    const name = propertyAttribute(element, "key");
    if (name !== DATA && name !== ENCODING) return element;
    pruned = true;
    return "";
  });
  return pruned ? out : undefined;
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
  async deleteConfig() {
    const data = await readGuestInfo(DATA);
    // Unset (the config came from the OVF environment) or already deleted: nothing to overwrite.
    if (data !== undefined && data !== DELETED_DATA) {
      log.info("deleting the config from guestinfo");
      await writeGuestInfo(DATA, DELETED_DATA);
      if ((await readGuestInfo(ENCODING)) !== DELETED_ENCODING) await writeGuestInfo(ENCODING, DELETED_ENCODING);
    }
    const environment = await readGuestInfo(OVF_ENV);
    const pruned = environment ? withoutConfigProperties(environment) : undefined;
    if (pruned !== undefined) {
      log.info("deleting the config from the OVF environment");
      await writeGuestInfo(OVF_ENV, pruned);
    }
  },
};
