// Which proxy, if any, a URL goes through (`ignition.proxy`), with the
// `noProxy` rules Ignition inherits from Go: `*`, domain suffixes, IPs,
// CIDR ranges, optional ports; loopback and `localhost` never use a proxy.

import { BlockList, isIP } from "node:net";
import type { Proxy } from "../config/types";

export function proxyFor(url: URL, proxy: Proxy | undefined): URL | undefined {
  if (!proxy) return undefined;
  const chosen = url.protocol === "https:" ? proxy.httpsProxy : proxy.httpProxy;
  if (!chosen) return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || isLoopback(host)) return undefined;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  if (bypasses(host, port, proxy.noProxy ?? [])) return undefined;
  return new URL(chosen.includes("://") ? chosen : `http://${chosen}`);
}

function isLoopback(host: string): boolean {
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

function bypasses(host: string, port: string, noProxy: string[]): boolean {
  for (const raw of noProxy.flatMap((entry) => entry.split(","))) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (inCidr(host, entry)) return true;
      continue;
    }
    let name = entry;
    let wantPort: string | undefined;
    const portMatch = /^(.*?):(\d+)$/.exec(entry);
    if (portMatch && isIP(entry) !== 6) [, name, wantPort] = portMatch as unknown as [string, string, string];
    name = name.replace(/^\[|\]$/g, "");
    if (wantPort && wantPort !== port) continue;
    if (isIP(name)) {
      if (name === host) return true;
      continue;
    }
    if (name.startsWith("*.")) name = name.slice(1);
    if (name.startsWith(".")) {
      if (host.endsWith(name)) return true;
    } else if (host === name || host.endsWith("." + name)) return true;
  }
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const family = isIP(host);
  const [net, bits] = cidr.split("/");
  if (!family || !net || isIP(net) !== family) return false;
  const list = new BlockList();
  list.addSubnet(net, Number(bits), family === 4 ? "ipv4" : "ipv6");
  return list.check(host, family === 4 ? "ipv4" : "ipv6");
}
