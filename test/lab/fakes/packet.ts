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
/** Where the metadata's phone_home_url points (plain HTTP, as Equinix hands it out): another host, at a lab address of its own. */
export const PHONE_HOME_HOST = "tinkerbell.am6.packet.net";
export const PHONE_HOME_ADDRESS = "198.51.100.80";

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
    phone_home_url: `http://${PHONE_HOME_HOST}/phone-home`,
    user_state_url: `http://${PHONE_HOME_HOST}/events`,
  };
  const handler: Handler = (req, res) => {
    const accept = req.headers.accept;
    if (accept && !/\*\/\*|application\/json|text\/\*|text\/plain/.test(accept)) return send(res, 406, "Not Acceptable\n");
    const { path } = parse(req);
    if (path === "/metadata") return sendJson(res, document);
    if (path === "/userdata") return options.userdata ? send(res, 200, options.userdata) : notFound(res);
    notFound(res);
  };
  // Tinkerbell: the phone-home (a POST, body ignored) and the timeline's
  // events (a POST of JSON {state, message}, state running, succeeded or
  // failed; 422 otherwise). Each is logged on stderr as
  // `ADDRESS PHONE-HOME` or `ADDRESS EVENT <state> <message>`.
  const tinkerbell: Handler = (req, res) => {
    const { path } = parse(req);
    if (req.method !== "POST" || (path !== "/phone-home" && path !== "/events")) return notFound(res);
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      if (path === "/phone-home") {
        process.stderr.write(`${PHONE_HOME_ADDRESS} PHONE-HOME\n`);
        return send(res, 200, "");
      }
      let event: { state?: unknown; message?: unknown } | undefined;
      try {
        event = JSON.parse(body);
      } catch {
        event = undefined;
      }
      if (!/^application\/json\b/.test(String(req.headers["content-type"] ?? "")) || !event || !["running", "succeeded", "failed"].includes(event.state as string) || typeof event.message !== "string") {
        return send(res, 422, '{"errors":["state and message are required"]}', { "Content-Type": "application/json" });
      }
      process.stderr.write(`${PHONE_HOME_ADDRESS} EVENT ${event.state} ${event.message}\n`);
      send(res, 200, "");
    });
  };
  return {
    addresses: ["169.254.169.254/32", `${PHONE_HOME_ADDRESS}/32`],
    listeners: [
      { address: "169.254.169.254", port: 443, tls: { names: PACKET_HOSTS }, handler },
      { address: PHONE_HOME_ADDRESS, port: 80, handler: tinkerbell },
    ],
  };
}
