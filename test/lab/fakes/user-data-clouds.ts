// The metadata services of the clouds whose user data is one URL (and, for
// Akamai, a token), each at its real address and answering as its vendor
// documents it:
// - Akamai (Linode) Metadata Service, 169.254.169.254: `PUT /v1/token` needs
//   `Metadata-Token-Expiry-Seconds` (1–86400, else 400); every other path
//   needs a valid `Metadata-Token` (401); an Accept that allows neither
//   text/plain nor */* gets 406; `/v1/user-data` is the base64 of the user
//   data (scenario `gzip`: gzipped first, as the service keeps compressed
//   uploads); 404 without user data.
// - Alibaba Cloud, 100.100.100.200: `/latest/user-data`, `/latest/meta-data/…`.
// - Exoscale, 169.254.169.254: `/1.0/user-data`, `/1.0/meta-data/…`.
// - Oracle Cloud IMDS v2, 169.254.169.254: `/opc/v2/…` only with
//   `Authorization: Bearer Oracle` (401 otherwise), refuses `Forwarded` and
//   `X-Forwarded-For` (403); `instance/metadata/user_data` is base64;
//   scenario `busy-twice`: 429 to the first two requests.
// - Scaleway, 169.254.42.42: `/user_data/cloud-init` only to a client whose
//   source port is below 1024 (403 otherwise).
// - UpCloud, 169.254.169.254: `/metadata/v1/user_data`, `/metadata/v1.json`.
// - CloudStack's virtual router, which is also the DHCP server (the lab puts
//   it at CLOUDSTACK_ROUTER): `/latest/user-data`, `/latest/meta-data/…`.
// Without user data each answers 404 for it.

import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { DEFAULT_HOSTNAME, notFound, parse, send, sendJson, tree, type CloudOptions, type FakeCloud, type Handler } from "./service";

const METADATA = "169.254.169.254";
export const CLOUDSTACK_ROUTER = "10.1.1.1";

function single(address: string, handler: Handler): FakeCloud {
  return { addresses: [`${address}/32`], listeners: [{ address, port: 80, handler }] };
}

export function akamai(options: CloudOptions): FakeCloud {
  const tokens = new Set<string>();
  const userData = options.userdata && (options.scenario === "gzip" ? gzipSync(options.userdata) : options.userdata).toString("base64");
  return single(METADATA, (req, res) => {
    const { path } = parse(req);
    const accept = req.headers.accept;
    if (accept && !/\*\/\*|text\/plain|application\/json/.test(accept)) return send(res, 406, "Not Acceptable\n");
    if (path === "/v1/token") {
      if (req.method !== "PUT") return send(res, 405, "Method Not Allowed\n");
      const ttl = Number(req.headers["metadata-token-expiry-seconds"]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86400) return send(res, 400, "Bad Request\n");
      const token = randomBytes(24).toString("hex");
      tokens.add(token);
      return send(res, 200, token);
    }
    if (!tokens.has(String(req.headers["metadata-token"] ?? ""))) return send(res, 401, "Unauthorized\n");
    if (path === "/v1/user-data") return userData ? send(res, 200, userData) : notFound(res);
    if (path === "/v1/instance") return sendJson(res, { id: 12345678, label: options.hostname ?? DEFAULT_HOSTNAME, region: "nl-ams" });
    notFound(res);
  });
}

export function aliyun(options: CloudOptions): FakeCloud {
  return single("100.100.100.200", (req, res) =>
    tree({ "/latest/user-data": options.userdata, "/latest/meta-data/hostname": options.hostname ?? DEFAULT_HOSTNAME, "/latest/meta-data/instance-id": "i-bp1flintlab0000000" }, res, parse(req).path),
  );
}

export function exoscale(options: CloudOptions): FakeCloud {
  return single(METADATA, (req, res) =>
    tree({ "/1.0/user-data": options.userdata, "/1.0/meta-data/local-hostname": options.hostname ?? DEFAULT_HOSTNAME, "/1.0/meta-data/instance-id": "8a9c2f5e-0000-4000-8000-flintlab0001" }, res, parse(req).path),
  );
}

export function oraclecloud(options: CloudOptions): FakeCloud {
  let busyLeft = options.scenario === "busy-twice" ? 2 : 0;
  return single(METADATA, (req, res) => {
    const { path } = parse(req);
    if (!path.startsWith("/opc/v2/")) return notFound(res);
    if (req.headers["authorization"] !== "Bearer Oracle") return send(res, 401, "Unauthorized\n");
    if (req.headers["forwarded"] || req.headers["x-forwarded-for"]) return send(res, 403, "Forbidden\n");
    if (busyLeft > 0) return (busyLeft--, send(res, 429, "Too Many Requests\n"));
    const metadata: Record<string, string> = options.userdata ? { user_data: options.userdata.toString("base64") } : {};
    if (path === "/opc/v2/instance/metadata/user_data") return metadata.user_data ? send(res, 200, metadata.user_data) : notFound(res);
    if (path === "/opc/v2/instance/") return sendJson(res, { hostname: options.hostname ?? DEFAULT_HOSTNAME, metadata });
    notFound(res);
  });
}

export function scaleway(options: CloudOptions): FakeCloud {
  return single("169.254.42.42", (req, res) => {
    const { path } = parse(req);
    if (path.startsWith("/user_data") && (req.socket.remotePort ?? 65535) >= 1024) return send(res, 403, "Forbidden: source port must be below 1024\n");
    if (path === "/user_data/cloud-init") return options.userdata ? send(res, 200, options.userdata) : notFound(res);
    if (path === "/conf") return send(res, 200, `HOSTNAME=${options.hostname ?? DEFAULT_HOSTNAME}\n`);
    notFound(res);
  });
}

export function upcloud(options: CloudOptions): FakeCloud {
  const hostname = options.hostname ?? DEFAULT_HOSTNAME;
  return single(METADATA, (req, res) => {
    const { path } = parse(req);
    if (path === "/metadata/v1.json") return sendJson(res, { hostname, instance_id: "00a1b2c3-flint-lab", user_data: options.userdata?.toString("utf8") ?? "" });
    tree({ "/metadata/v1/user_data": options.userdata, "/metadata/v1/hostname": hostname }, res, path);
  });
}

export function cloudstack(options: CloudOptions): FakeCloud {
  return {
    addresses: [`${CLOUDSTACK_ROUTER}/24`],
    listeners: [
      {
        address: CLOUDSTACK_ROUTER,
        port: 80,
        handler: (req, res) =>
          tree({ "/latest/user-data": options.userdata, "/latest/meta-data/local-hostname": options.hostname ?? DEFAULT_HOSTNAME, "/latest/meta-data/instance-id": "f0e1d2c3-flint-lab" }, res, parse(req).path),
      },
    ],
  };
}
