// Amazon EC2's instance metadata service (IMDS), as AWS documents it:
// - IMDSv2: `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds`
//   (1..21600; missing or out of range → 400) returns a session token; GETs
//   carry it in `X-aws-ec2-metadata-token`; an unknown or expired token → 401.
//   A PUT carrying `X-Forwarded-For` is refused (403).
// - Scenarios: default and `imdsv2-only` = tokenless GETs → 401
//   (`HttpTokens=required`, what new instances get); `imdsv2-optional` =
//   tokenless GETs are served too (`HttpTokens=optional`); `imdsv1-only` =
//   an old service with no token endpoint (the PUT → 404), GETs tokenless.
// - Paths under `/latest/` or any dated version: `user-data` (404 when the
//   instance has none), `meta-data/…` (directory listings end with `/`).
// Served at 169.254.169.254 and the IPv6 endpoint fd00:ec2::254.

import { randomBytes } from "node:crypto";
import { roleMetadata, s3Service } from "./s3";
import { notFound, parse, send, type CloudOptions, type FakeCloud, type Handler } from "./service";

const VERSIONS = ["1.0", "2007-01-19", "2008-02-01", "2009-04-04", "2011-01-01", "2016-09-02", "2018-09-24", "2019-10-01", "2021-01-03", "2021-07-15", "latest"];
const MAX_TTL = 21600;

export function aws(options: CloudOptions): FakeCloud {
  const tokens = new Map<string, number>(); // token → expiry (ms since epoch)
  const hostname = options.hostname ?? `ip-172-31-5-10.ec2.internal`;
  const keyName = "flint-lab";
  const metaData: Record<string, string> = {
    "ami-id": "ami-0123456789abcdef0",
    hostname,
    "local-hostname": hostname,
    "instance-id": "i-0123456789abcdef0",
    "instance-type": "t3.micro",
    "local-ipv4": "172.31.5.10",
    "placement/availability-zone": "us-east-1a",
    "placement/region": "us-east-1",
  };
  if (options.sshKey) {
    metaData["public-keys/"] = `0=${keyName}`;
    metaData["public-keys/0/"] = "openssh-key";
    metaData["public-keys/0/openssh-key"] = `${options.sshKey}\n`;
  }
  const noTokenEndpoint = options.scenario === "imdsv1-only";
  const tokenRequired = !noTokenEndpoint && options.scenario !== "imdsv2-optional";

  const handler: Handler = (req, res) => {
    const { path } = parse(req);
    if (path === "/latest/api/token") {
      if (noTokenEndpoint) return notFound(res);
      if (req.method !== "PUT") return send(res, 405, "Method Not Allowed\n", { Allow: "PUT" });
      if (req.headers["x-forwarded-for"]) return send(res, 403, "Forbidden\n");
      const ttl = Number(req.headers["x-aws-ec2-metadata-token-ttl-seconds"]);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL) return send(res, 400, "Bad Request\n");
      const token = randomBytes(32).toString("base64");
      tokens.set(token, Date.now() + ttl * 1000);
      return send(res, 200, token, { "X-Aws-Ec2-Metadata-Token-Ttl-Seconds": String(ttl) });
    }
    if (req.method !== "GET" && req.method !== "HEAD") return send(res, 405, "Method Not Allowed\n");
    const token = req.headers["x-aws-ec2-metadata-token"];
    if (typeof token === "string" && !noTokenEndpoint) {
      const expiry = tokens.get(token);
      if (expiry === undefined || expiry < Date.now()) return send(res, 401, "Unauthorized\n");
    } else if (tokenRequired) {
      return send(res, 401, "Unauthorized\n");
    }
    if (path === "/") return send(res, 200, VERSIONS.join("\n"));
    const [, version, ...rest] = path.split("/");
    if (!version || !VERSIONS.includes(version)) return notFound(res);
    const sub = rest.join("/");
    if (sub === "user-data") return options.userdata ? send(res, 200, options.userdata, { "Content-Type": "application/octet-stream" }) : notFound(res);
    if (sub === "") return send(res, 200, options.userdata ? "dynamic\nmeta-data\nuser-data" : "dynamic\nmeta-data");
    if (sub.startsWith("meta-data/")) {
      const key = sub.slice("meta-data/".length);
      if (key === "") return send(res, 200, listing(metaData, "") + (options.scenario === "no-role" ? "" : "\niam/"));
      if (key.startsWith("iam/")) {
        const entry = roleMetadata(key, options.scenario);
        return entry === undefined ? notFound(res) : send(res, 200, entry);
      }
      if (metaData[key] !== undefined) return send(res, 200, metaData[key]!);
      if (key.endsWith("/")) {
        const list = listing(metaData, key);
        if (list) return send(res, 200, list);
      }
    }
    return notFound(res);
  };
  // S3 and the instance role: fakes/s3.ts.
  const s3 = s3Service(options);
  return {
    addresses: ["169.254.169.254/32", "fd00:ec2::254/128", ...s3.addresses],
    listeners: [
      { address: "169.254.169.254", port: 80, handler },
      { address: "fd00:ec2::254", port: 80, handler },
      ...s3.listeners,
    ],
  };
}

/** The entries directly under `dir` (sub-directories with a trailing slash), as IMDS lists them. */
function listing(tree: Record<string, string>, dir: string): string {
  const names = new Set<string>();
  for (const key of Object.keys(tree)) {
    if (!key.startsWith(dir) || key === dir) continue;
    const rest = key.slice(dir.length);
    const slash = rest.indexOf("/");
    names.add(slash < 0 ? rest : rest.slice(0, slash + 1));
  }
  return [...names].filter((n) => n !== "").join("\n");
}
