// Serves one fake cloud at its real addresses. Run it INSIDE a network
// namespace made for the purpose (never on the host's own network):
//
//   node --import tsx test/lab/serve-cloud.ts --platform ID --userdata FILE \
//     [--ssh-key KEY] [--hostname NAME] [--scenario NAME] [--ca-out FILE] \
//     [--object URL=FILE]... --dev DEV
//
// It adds the addresses the cloud needs to DEV (e.g. 169.254.169.254/32),
// binds the cloud's services there, prints `ready` on stdout once they
// listen, logs each request on stderr, and on SIGTERM/SIGINT closes them,
// removes the addresses and exits 0. HTTPS services (packet) get a
// certificate from a throw-away CA; `--ca-out` writes that CA's certificate
// (PEM) for the client to trust. `--object` puts FILE in the cloud's storage
// service at URL (`s3://BUCKET/KEY`, see fakes/s3.ts). The clouds:
// test/lab/fakes/.

import { execFileSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { FAKE_CLOUDS } from "./fakes/index";
import type { Listener } from "./fakes/service";

function usage(message: string): never {
  process.stderr.write(`serve-cloud: ${message}\nusage: serve-cloud.ts --platform ID --userdata FILE [--ssh-key KEY] [--hostname NAME] [--scenario NAME] [--ca-out FILE] --dev DEV\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    platform: { type: "string" },
    userdata: { type: "string" },
    "ssh-key": { type: "string" },
    hostname: { type: "string" },
    scenario: { type: "string" },
    "ca-out": { type: "string" },
    dev: { type: "string" },
    object: { type: "string", multiple: true },
  },
  strict: true,
});
const platform = values.platform ?? usage("--platform is required");
const dev = values.dev ?? usage("--dev is required");
const make = FAKE_CLOUDS[platform] ?? usage(`no fake for platform ${JSON.stringify(platform)} (have: ${Object.keys(FAKE_CLOUDS).join(", ")})`);
const cloud = make({
  userdata: values.userdata ? readFileSync(values.userdata) : undefined,
  sshKey: values["ssh-key"],
  hostname: values.hostname,
  scenario: values.scenario,
  objects: Object.fromEntries(
    (values.object ?? []).map((spec) => {
      const eq = spec.lastIndexOf("=");
      if (eq <= 0) usage(`--object wants URL=FILE, not ${JSON.stringify(spec)}`);
      return [spec.slice(0, eq), readFileSync(spec.slice(eq + 1))];
    }),
  ),
});

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
const added: string[] = [];
const servers: (http.Server | https.Server)[] = [];
let tlsDir: string | undefined;

function cleanup(): void {
  for (const server of servers) server.close();
  for (const address of added) {
    try {
      ip("addr", "del", address, "dev", dev);
    } catch {
      // Already gone with the device or the namespace.
    }
  }
  if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
}

/** A CA and a server certificate for `names`, made with openssl. */
function certificate(names: string[]): { key: string; cert: string } {
  tlsDir ??= mkdtempSync(join(tmpdir(), "flint-lab-ca-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: tlsDir, stdio: ["ignore", "ignore", "pipe"] });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "7", "-subj", "/CN=Flint lab CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${names[0]}`);
  writeFileSync(join(tlsDir, "ext.cnf"), `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.crt", "-days", "7", "-extfile", "ext.cnf");
  if (values["ca-out"]) writeFileSync(values["ca-out"], readFileSync(join(tlsDir, "ca.crt")));
  return { key: readFileSync(join(tlsDir, "server.key"), "utf8"), cert: readFileSync(join(tlsDir, "server.crt"), "utf8") };
}

async function listen(listener: Listener): Promise<void> {
  const server = listener.tls ? https.createServer(certificate(listener.tls.names)) : http.createServer();
  server.on("request", (req, res) => {
    res.on("finish", () => process.stderr.write(`${listener.address} ${req.method} ${req.url} ${res.statusCode}\n`));
    listener.handler(req, res);
  });
  // A link-local IPv6 address only exists with its interface.
  const host = listener.address.startsWith("fe80:") ? `${listener.address}%${dev}` : listener.address;
  server.listen(listener.port, host);
  await once(server, "listening");
  servers.push(server);
}

process.on("SIGTERM", () => (cleanup(), process.exit(0)));
process.on("SIGINT", () => (cleanup(), process.exit(0)));

async function main(): Promise<void> {
  try {
    ip("link", "set", dev, "up");
    for (const address of cloud.addresses) {
      // nodad: an IPv6 address is usable at once, not after duplicate detection.
      try {
        ip("addr", "add", address, "dev", dev, ...(address.includes(":") ? ["nodad"] : []));
        added.push(address);
      } catch (e) {
        // Put there by the lab already: use it, leave it.
        if (!/File exists|already assigned/.test(String((e as { stderr?: Buffer }).stderr ?? ""))) throw e;
      }
    }
    for (const listener of cloud.listeners) await listen(listener);
  } catch (e) {
    process.stderr.write(`serve-cloud: ${(e as Error).message}\n`);
    cleanup();
    process.exit(1);
  }
  process.stdout.write("ready\n");
}

void main();
