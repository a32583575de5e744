// VMware: the config is in guestinfo (`guestinfo.ignition.config.data`, with
// an optional `.encoding` of base64 or gz+base64), read with vmware-rpctool.

import { gunzipSync } from "node:zlib";
import { FlintError } from "../errors";
import { DEFAULT_CONFIG_CAP } from "../resource/index";
import { readGuestInfo } from "../system/vmware-rpctool";
import type { Platform } from "./types";

export const platform: Platform = {
  id: "vmware",
  needsNetwork: false,
  async fetchConfig() {
    const data = await readGuestInfo("guestinfo.ignition.config.data");
    if (data === undefined || data.trim() === "") return undefined;
    const encoding = (await readGuestInfo("guestinfo.ignition.config.data.encoding"))?.trim() ?? "";
    switch (encoding) {
      case "":
        return Buffer.from(data, "utf8");
      case "base64":
      case "b64":
        return Buffer.from(data, "base64");
      case "gz+base64":
      case "gzip+base64":
        return gunzipSync(Buffer.from(data, "base64"), { maxOutputLength: DEFAULT_CONFIG_CAP });
      default:
        throw new FlintError(`unknown encoding ${JSON.stringify(encoding)} (known: base64, gz+base64)`, "guestinfo.ignition.config.data.encoding");
    }
  },
};
