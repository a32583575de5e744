// Hetzner Cloud's server metadata service, as Hetzner documents it, at
// 169.254.169.254 (IPv4 only): `/hetzner/v1/userdata` (the raw user data),
// `/hetzner/v1/metadata` (a YAML document), and single values under
// `/hetzner/v1/metadata/`: `hostname`, `instance-id`, `public-ipv4`,
// `region`, `availability-zone`, and `public-keys` (a JSON list).

import { DEFAULT_HOSTNAME, parse, tree, type CloudOptions, type FakeCloud, type Handler } from "./service";

export function hetzner(options: CloudOptions): FakeCloud {
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  const keys = options.sshKey ? [options.sshKey] : [];
  const values: Record<string, string> = {
    hostname,
    "instance-id": "42",
    "public-ipv4": "203.0.113.20",
    region: "eu-central",
    "availability-zone": "fsn1-dc14",
  };
  const yaml = Object.entries(values).map(([k, v]) => `${k}: ${k === "instance-id" ? v : JSON.stringify(v)}`).join("\n") + `\npublic-keys:\n${keys.map((k) => `- ${JSON.stringify(k)}`).join("\n")}\n`;
  const entries: Record<string, string | Buffer | undefined> = {
    "/hetzner/v1/userdata": options.userdata,
    "/hetzner/v1/metadata": yaml,
    "/hetzner/v1/metadata/public-keys": JSON.stringify(keys),
  };
  for (const [k, v] of Object.entries(values)) entries[`/hetzner/v1/metadata/${k}`] = v;
  const handler: Handler = (req, res) => tree(entries, res, parse(req).path);
  return { addresses: ["169.254.169.254/32"], listeners: [{ address: "169.254.169.254", port: 80, handler }] };
}
