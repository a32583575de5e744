// Vultr's instance metadata service, as Vultr documents it, at
// 169.254.169.254: `/user-data/user-data`, `/v1.json` (the whole document:
// `hostname`, `public-keys`, `instanceid`, `region`…), and single values
// under `/v1/`: `hostname`, `public-keys` (one key a line), `instanceid`.

import { DEFAULT_HOSTNAME, parse, sendJson, tree, type CloudOptions, type FakeCloud, type Handler } from "./service";

export function vultr(options: CloudOptions): FakeCloud {
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  const keys = options.sshKey ? [options.sshKey] : [];
  const document = { hostname, instanceid: "a1b2c3d4", "instance-v2-id": "4b6d3c1e-9f0a-4c11-8e2b-7f3a5d6c8e90", region: { regioncode: "AMS" }, "public-keys": keys };
  const entries: Record<string, string | Buffer | undefined> = {
    "/user-data/user-data": options.userdata,
    "/v1/hostname": hostname,
    "/v1/instanceid": document.instanceid,
    "/v1/region/regioncode": document.region.regioncode,
    "/v1/public-keys": keys.map((k) => `${k}\n`).join(""),
  };
  const handler: Handler = (req, res) => {
    const { path } = parse(req);
    if (path === "/v1.json") return sendJson(res, document);
    tree(entries, res, path);
  };
  return { addresses: ["169.254.169.254/32"], listeners: [{ address: "169.254.169.254", port: 80, handler }] };
}
