// DigitalOcean's droplet metadata service, as DigitalOcean documents it, at
// 169.254.169.254: `/metadata/v1.json` (the whole document: `droplet_id`,
// `hostname`, `public_keys`, `region`, `interfaces`, `dns`), and the same
// data as plain-text paths under `/metadata/v1/` (`hostname`, `user-data`,
// `public-keys`, `id`). No header is needed. A path that does not exist is
// a 404; user data that was never set is an empty 200.

import { DEFAULT_HOSTNAME, parse, sendJson, tree, type CloudOptions, type FakeCloud, type Handler } from "./service";

export function digitalocean(options: CloudOptions): FakeCloud {
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  const keys = options.sshKey ? [options.sshKey] : [];
  const document = {
    droplet_id: 2756294,
    hostname,
    vendor_data: "",
    public_keys: keys,
    auth_key: "",
    region: "fra1",
    interfaces: {
      public: [{ ipv4: { ip_address: "203.0.113.10", netmask: "255.255.255.0", gateway: "203.0.113.1" }, mac: "d2:4b:9e:6c:0d:11", type: "public" }],
    },
    floating_ip: { ipv4: { active: false } },
    dns: { nameservers: ["67.207.67.2", "67.207.67.3"] },
    features: { dhcp_enabled: false },
  };
  const text: Record<string, string | Buffer> = {
    "/metadata/v1/hostname": hostname,
    "/metadata/v1/id": String(document.droplet_id),
    "/metadata/v1/region": document.region,
    "/metadata/v1/user-data": options.userdata ?? "",
    "/metadata/v1/public-keys": keys.join("\n"),
  };
  const handler: Handler = (req, res) => {
    const { path } = parse(req);
    if (path === "/metadata/v1.json") return sendJson(res, document);
    tree(text, res, path);
  };
  return { addresses: ["169.254.169.254/32"], listeners: [{ address: "169.254.169.254", port: 80, handler }] };
}
