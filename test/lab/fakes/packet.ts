// Equinix Metal's (formerly Packet's) metadata service: HTTPS at
// metadata.packet.net (also metadata.platformequinix.com): `/metadata` (a
// JSON document with `hostname`, `ssh_keys`, `network`, `phone_home_url`…)
// and `/userdata` (the raw user data). It answers 406 Not Acceptable to a
// request whose Accept header allows neither JSON/text nor `*/*`, which is
// why Ignition sends `Accept: */*`. The names resolve, in the lab, to
// 169.254.169.254 (the real service's public addresses must never be a
// target here).

import { DEFAULT_HOSTNAME, notFound, parse, send, sendJson, type CloudOptions, type FakeCloud, type Handler } from "./service";

export const PACKET_HOSTS = ["metadata.packet.net", "metadata.platformequinix.com"];

export function packet(options: CloudOptions): FakeCloud {
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  const document = {
    id: "3b1b1a4e-7f4c-4b58-9f7a-2b0c4b2d1c11",
    hostname,
    iqn: "iqn.2026-11.net.packet:device.3b1b1a4e",
    operating_system: { slug: "flatcar_stable", distro: "flatcar" },
    plan: "c3.small.x86",
    facility: "am6",
    metro: "am",
    ssh_keys: options.sshKey ? [options.sshKey] : [],
    network: { bonding: { mode: 4 }, interfaces: [], addresses: [] },
    phone_home_url: "http://tinkerbell.am6.packet.net/phone-home",
    user_state_url: "http://tinkerbell.am6.packet.net/events",
  };
  const handler: Handler = (req, res) => {
    const accept = req.headers.accept;
    if (accept && !/\*\/\*|application\/json|text\/\*|text\/plain/.test(accept)) return send(res, 406, "Not Acceptable\n");
    const { path } = parse(req);
    if (path === "/metadata") return sendJson(res, document);
    if (path === "/userdata") return options.userdata ? send(res, 200, options.userdata) : notFound(res);
    notFound(res);
  };
  return {
    addresses: ["169.254.169.254/32"],
    listeners: [{ address: "169.254.169.254", port: 443, tls: { names: PACKET_HOSTS }, handler }],
  };
}
