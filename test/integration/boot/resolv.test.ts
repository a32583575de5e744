// units/flint-resolv: /etc/resolv.conf in the initramfs from systemd-networkd's
// state files (links/N and leases/N), as networkd 252 writes them.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SCRIPT = join(__dirname, "..", "..", "..", "units", "flint-resolv");

describe("units/flint-resolv", () => {
  let work: string;
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "flint-resolv-"));
    mkdirSync(join(work, "netif/links"), { recursive: true });
    mkdirSync(join(work, "netif/leases"), { recursive: true });
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const out = () => join(work, "resolv.conf");
  const run = () => execFileSync("sh", [SCRIPT], { env: { ...process.env, FLINT_NETIF_DIR: join(work, "netif"), FLINT_RESOLV_CONF: out() } });

  it("writes the lease's name servers and domain, each once, at most three servers", () => {
    writeFileSync(join(work, "netif/links/2"), "# This is private data. Do not parse.\nADMIN_STATE=configured\nOPER_STATE=routable\nDNS=192.0.2.1 192.0.2.2\nDOMAINS=example.test\n");
    writeFileSync(join(work, "netif/leases/2"), "# This is private data. Do not parse.\nADDRESS=192.0.2.100\nDNS=192.0.2.1 192.0.2.3 192.0.2.4\nDOMAINNAME=example.test\n");
    run();
    assert.equal(readFileSync(out(), "utf8"), [
      "# Written by flint-resolv from systemd-networkd's state, in the initramfs only.",
      "search example.test",
      "nameserver 192.0.2.1",
      "nameserver 192.0.2.2",
      "nameserver 192.0.2.3",
      "",
    ].join("\n"));
    assert.deepEqual(readdirSync(work).sort(), ["netif", "resolv.conf"], "a temporary file was left behind");
  });

  it("leaves resolv.conf alone while networkd knows no name server (link-local only)", () => {
    writeFileSync(join(work, "netif/links/2"), "ADMIN_STATE=configured\nOPER_STATE=degraded\n");
    run();
    assert.equal(existsSync(out()), false);
    writeFileSync(out(), "nameserver 192.0.2.9\n");
    run();
    assert.equal(readFileSync(out(), "utf8"), "nameserver 192.0.2.9\n");
  });

  it("follows a changed lease", () => {
    writeFileSync(join(work, "netif/leases/3"), "DNS=192.0.2.1\n");
    run();
    writeFileSync(join(work, "netif/leases/3"), "DNS=192.0.2.7");
    run();
    assert.match(readFileSync(out(), "utf8"), /^nameserver 192\.0\.2\.7$/m);
    assert.doesNotMatch(readFileSync(out(), "utf8"), /192\.0\.2\.1$/m);
  });
});
