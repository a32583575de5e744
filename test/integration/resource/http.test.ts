import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { DEFAULT_CONFIG_CAP, fetchToBuffer, fetchToFile, fetchUrl, settingsFromConfig, type RetryInfo } from "../../../agent/resource/index";
import { routes, startHttpServer, startHttpsServer, type TestServer } from "../../helpers/servers/http";
import { startProxy, type TestProxy } from "../../helpers/servers/proxy";
import { makeTestCa, type TestCa } from "../../helpers/servers/tls";
import { FlintError } from "../../../agent/errors";

const sha256 = (data: Buffer | string) => "sha256-" + createHash("sha256").update(data).digest("hex");

describe("fetching over HTTP from real servers on 127.0.0.1", () => {
  const servers: (TestServer | TestProxy)[] = [];
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-http-"));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  const serve = async (handler: Parameters<typeof startHttpServer>[0]) => {
    const server = await startHttpServer(handler);
    servers.push(server);
    return server;
  };

  it("retries a server that fails 3 times with 500, really waiting 100, 200 and 400 ms, then succeeds", async () => {
    const server = await serve((_req, res, index) => {
      res.statusCode = index < 3 ? 500 : 200;
      res.end(index < 3 ? "oops" : "finally");
    });
    const retries: RetryInfo[] = [];
    const data = await fetchToBuffer({ source: `${server.url}/config` }, { onRetry: (info) => retries.push(info) });
    assert.equal(data.toString(), "finally");
    assert.equal(server.requests.length, 4);
    assert.deepEqual(retries.map((r) => r.delayMs), [100, 200, 400]);
    assert.deepEqual(retries.map((r) => r.reason), ["HTTP status 500", "HTTP status 500", "HTTP status 500"]);
    // The server saw the waits: each try came at least the announced delay after the one before.
    const gaps = server.requests.slice(1).map((r, i) => r.at - server.requests[i]!.at);
    gaps.forEach((gap, i) => assert.ok(gap >= [100, 200, 400][i]! - 1, `try ${i + 2} came ${gap.toFixed(1)} ms after the one before`));
  });

  it("gives up on a server that sends no headers within httpResponseHeaders, then retries", async () => {
    const server = await serve((_req, res, index) => {
      if (index === 0) return; // hang: never answer the first try
      res.end("late but fine");
    });
    const retries: RetryInfo[] = [];
    const data = await fetchToBuffer({ source: `${server.url}/slow` }, { timeouts: { httpResponseHeaders: 1 }, onRetry: (info) => retries.push(info) });
    assert.equal(data.toString(), "late but fine");
    assert.equal(retries.length, 1);
    assert.match(retries[0]!.reason, /no response headers within 1 s/);
  });

  it("fails at once on a 404, naming the status, without retrying", async () => {
    const server = await serve(routes({}));
    await assert.rejects(fetchToBuffer({ source: `${server.url}/missing.ign` }, { sleep: async () => assert.fail("must not retry") }), (e: Error) => {
      assert.match(e.message, /HTTP status 404 Not Found/);
      assert.match(String((e as { where?: string }).where), /\/missing\.ign/);
      return true;
    });
    assert.equal(server.requests.length, 1);
  });

  it("stops when httpTotal runs out against a server that is not there", async () => {
    const gone = await serve(routes({}));
    await gone.close();
    servers.pop();
    await assert.rejects(fetchToBuffer({ source: `${gone.url}/x` }, { timeouts: { httpTotal: 1 } }), /gave up after \d+ tries: the total time limit of 1000 ms passed .*ECONNREFUSED/);
  });

  it("rejects a hash mismatch naming the resource and both hashes, and leaves no file behind", async () => {
    const server = await serve(routes({ "/file": "actual contents" }));
    const wrong = sha256("something else");
    const dest = join(dir, "out");
    await assert.rejects(fetchToFile({ source: `${server.url}/file`, verification: { hash: wrong } }, dest), (e: Error) => {
      assert.match(e.message, new RegExp(`expected ${wrong}, got ${sha256("actual contents")}`));
      assert.match(String((e as { where?: string }).where), /127\.0\.0\.1:\d+\/file/);
      return true;
    });
    assert.equal(existsSync(dest), false);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("stops a gzip bomb at the size cap, holding nothing and leaving no file", async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 ** 2));
    const server = await serve(routes({ "/bomb.gz": bomb }));
    await assert.rejects(fetchToBuffer({ source: `${server.url}/bomb.gz`, compression: "gzip" }, { maxBytes: DEFAULT_CONFIG_CAP }), /larger than the 10485760-byte limit after decompression/);
    const dest = join(dir, "bomb");
    await assert.rejects(fetchToFile({ source: `${server.url}/bomb.gz`, compression: "gzip" }, dest, { maxBytes: 1024 ** 2 }), /1048576-byte limit/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("decompresses gzip and verifies the hash of the decompressed bytes, as Ignition does", async () => {
    const text = "hello from gzip\n".repeat(1000);
    const server = await serve(routes({ "/c.gz": gzipSync(text) }));
    const dest = join(dir, "c");
    const { bytes } = await fetchToFile({ source: `${server.url}/c.gz`, compression: "gzip", verification: { hash: sha256(text) } }, dest);
    assert.equal(bytes, text.length);
    assert.equal(readFileSync(dest, "utf8"), text);
  });

  it("starts again when a transfer is cut off in the middle of the body", async () => {
    const body = "x".repeat(64 * 1024);
    const server = await serve((_req, res, index) => {
      res.setHeader("Content-Length", body.length);
      if (index === 0) {
        res.write(body.slice(0, 1000));
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      res.end(body);
    });
    const dest = join(dir, "cut");
    const retries: RetryInfo[] = [];
    await fetchToFile({ source: `${server.url}/cut`, verification: { hash: sha256(body) } }, dest, { onRetry: (info) => retries.push(info) });
    assert.equal(readFileSync(dest, "utf8"), body);
    assert.equal(retries.length, 1);
    assert.match(retries[0]!.reason, /transfer interrupted/);
  });

  it("reports a redirect loop instead of following it forever", async () => {
    const server = await serve((req, res) => {
      res.statusCode = 302;
      res.setHeader("Location", req.url === "/a" ? "/b" : "/a");
      res.end();
    });
    await assert.rejects(fetchToBuffer({ source: `${server.url}/a` }), /more than 10 redirects \(a redirect loop\?\)/);
    assert.equal(server.requests.length, 11);
  });

  it("sends httpHeaders to the first host and follows redirects there, but not to another host", async () => {
    const other = await serve(routes({ "/final": "moved" }));
    const server = await serve((req, res) => {
      res.statusCode = 301;
      res.setHeader("Location", req.url === "/start" ? "/same-host" : `${other.url}/final`);
      res.end();
    });
    const data = await fetchToBuffer({ source: `${server.url}/start`, httpHeaders: [{ name: "X-Token", value: "s3cr3t" }] });
    assert.equal(data.toString(), "moved");
    assert.deepEqual(server.requests.map((r) => r.headers["x-token"]), ["s3cr3t", "s3cr3t"]);
    assert.equal(other.requests[0]!.headers["x-token"], undefined);
  });

  it("streams a large file to disk without holding it in memory", async () => {
    const size = 128 * 1024 ** 2;
    const chunk = randomBytes(1024 ** 2);
    const hash = createHash("sha512");
    for (let i = 0; i < size / chunk.length; i++) hash.update(chunk);
    const server = await serve(async (_req, res) => {
      res.setHeader("Content-Length", size);
      for (let i = 0; i < size / chunk.length; i++) {
        if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
      }
      res.end();
    });
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const dest = join(dir, "big");
    try {
      const { bytes } = await fetchToFile({ source: `${server.url}/big`, verification: { hash: "sha512-" + hash.digest("hex") } }, dest);
      assert.equal(bytes, size);
    } finally {
      clearInterval(sampler);
    }
    // Holding the file would cost 128 MiB; streaming costs a few buffers.
    assert.ok(peak - before < 64 * 1024 ** 2, `memory grew by ${Math.round((peak - before) / 1024 ** 2)} MiB`);
  });

  it("returns undefined for a 404 metadata URL and sends PUT with headers", async () => {
    const server = await serve(routes({ "/token": (req, res) => res.end(req.method === "PUT" ? "tok" : "wrong method") }));
    assert.equal(await fetchUrl(`${server.url}/nothing`), undefined);
    assert.equal((await fetchUrl(`${server.url}/token`, { method: "PUT", headers: { "X-Ttl": "5" } }))?.toString(), "tok");
    assert.equal(server.requests[1]!.headers["x-ttl"], "5");
  });

  describe("HTTPS", () => {
    let ca: TestCa;
    before(() => {
      ca = makeTestCa();
    });

    it("trusts a CA listed in the config's certificateAuthorities, and only then", async () => {
      const server = await startHttpsServer(routes({ "/secure.ign": "over tls" }), ca);
      servers.push(server);
      await assert.rejects(fetchToBuffer({ source: `${server.url}/secure.ign` }, { sleep: async () => assert.fail("a certificate error is final") }), /TLS: .*(self-signed|unable to (get|verify))/i);
      const settings = await settingsFromConfig({
        ignition: { version: "3.4.0", security: { tls: { certificateAuthorities: [{ source: `data:;base64,${Buffer.from(ca.caCert).toString("base64")}` }] } } },
      });
      assert.equal((await fetchToBuffer({ source: `${server.url}/secure.ign` }, settings)).toString(), "over tls");
    });

    it("keeps trusting the NODE_EXTRA_CA_CERTS bundle (the initramfs's system CAs) when the config adds a CA of its own", async () => {
      const system = makeTestCa();
      const server = await startHttpsServer(routes({ "/f": "system-trusted" }), system);
      servers.push(server);
      const dir = mkdtempSync(join(tmpdir(), "flint-extra-ca-"));
      const saved = process.env.NODE_EXTRA_CA_CERTS;
      try {
        process.env.NODE_EXTRA_CA_CERTS = join(dir, "bundle.crt");
        writeFileSync(process.env.NODE_EXTRA_CA_CERTS, system.caCert);
        // The config's CA (another one) must not replace the system bundle.
        const settings = { certificateAuthorities: [Buffer.from(ca.caCert)], sleep: async () => assert.fail("a certificate error is final") };
        assert.equal((await fetchToBuffer({ source: `${server.url}/f` }, settings)).toString(), "system-trusted");
        delete process.env.NODE_EXTRA_CA_CERTS;
        await assert.rejects(fetchToBuffer({ source: `${server.url}/f` }, settings), /TLS: /);
      } finally {
        if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
        else process.env.NODE_EXTRA_CA_CERTS = saved;
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("trusts the system's CA bundle without NODE_EXTRA_CA_CERTS (read on the first HTTPS request, SSL_CERT_FILE naming it here)", async () => {
      const system = makeTestCa();
      const server = await startHttpsServer(routes({ "/f": "system bundle" }), system);
      servers.push(server);
      const dir = mkdtempSync(join(tmpdir(), "flint-system-ca-"));
      const saved = { ssl: process.env.SSL_CERT_FILE, extra: process.env.NODE_EXTRA_CA_CERTS };
      const settings = { sleep: async () => assert.fail("a certificate error is final") };
      try {
        delete process.env.NODE_EXTRA_CA_CERTS;
        process.env.SSL_CERT_FILE = join(dir, "ca-certificates.crt");
        writeFileSync(process.env.SSL_CERT_FILE, system.caCert);
        assert.equal((await fetchToBuffer({ source: `${server.url}/f` }, settings)).toString(), "system bundle");
        // With the config's own CA as well, the system bundle is still trusted.
        assert.equal((await fetchToBuffer({ source: `${server.url}/f` }, { ...settings, certificateAuthorities: [Buffer.from(ca.caCert)] })).toString(), "system bundle");
        process.env.SSL_CERT_FILE = join(dir, "absent.crt");
        await assert.rejects(fetchToBuffer({ source: `${server.url}/f` }, settings), /TLS: /);
      } finally {
        for (const [name, value] of [["SSL_CERT_FILE", saved.ssl], ["NODE_EXTRA_CA_CERTS", saved.extra]] as const) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("names the URL of a not-yet-valid certificate and says the clock is likely wrong, comparing the dates", async () => {
      const future = makeTestCa({ from: "20350101000000Z", to: "20360101000000Z" });
      const server = await startHttpsServer(routes({ "/f": "x" }), future);
      servers.push(server);
      const settings = { certificateAuthorities: [Buffer.from(future.caCert)], sleep: async () => assert.fail("a certificate error is final") };
      const error = await fetchToBuffer({ source: `${server.url}/f?token=s3cret` }, { ...settings, label: "storage.files.0.contents" }).then(() => undefined, (e: unknown) => e);
      assert.ok(error instanceof FlintError);
      assert.equal(error.where, "storage.files.0.contents");
      assert.match(error.message, new RegExp(`^TLS: certificate is not yet valid \\(${server.url.replace(/\./g, "\\.")}/f\\?…\\): the certificate for CN=127\\.0\\.0\\.1 is valid from 2035-01-01 to 2036-01-01 but the system clock says ${new Date().getUTCFullYear()}-.*; the clock is likely wrong`));
      assert.doesNotMatch(error.message, /s3cret/);
    });

    it("says an expired certificate is likely out of date", async () => {
      const past = makeTestCa({ from: "20200101000000Z", to: "20210101000000Z" });
      const server = await startHttpsServer(routes({ "/f": "x" }), past);
      servers.push(server);
      await assert.rejects(fetchToBuffer({ source: `${server.url}/f` }, { certificateAuthorities: [Buffer.from(past.caCert)] }), (e: unknown) => {
        assert.ok(e instanceof FlintError);
        assert.match(e.message, /^TLS: certificate has expired: the certificate for CN=127\.0\.0\.1 expired on 2021-01-01 \(valid from 2020-01-01\) and the system clock says .*; the certificate is likely out of date/);
        return true;
      });
    });

    it("goes through a proxy: absolute URIs for http, a CONNECT tunnel (with proxy credentials) for https", async () => {
      const plain = await serve(routes({ "/via-proxy": "proxied http" }));
      const secure = await startHttpsServer(routes({ "/via-tunnel": "proxied https" }), ca);
      servers.push(secure);
      // These names resolve nowhere; only the proxy knows they are on 127.0.0.1.
      const proxy = await startProxy({ "plain.metadata.test": plain.port, "metadata.test": secure.port });
      servers.push(proxy);
      const settings = {
        proxy: { httpProxy: proxy.url, httpsProxy: proxy.url.replace("http://", "http://user:pw@") },
        certificateAuthorities: [Buffer.from(ca.caCert)],
        timeouts: { httpTotal: 20 },
      };
      assert.equal((await fetchToBuffer({ source: "http://plain.metadata.test/via-proxy" }, settings)).toString(), "proxied http");
      // The certificate names metadata.test: TLS is verified end to end through the tunnel.
      assert.equal((await fetchToBuffer({ source: "https://metadata.test/via-tunnel" }, settings)).toString(), "proxied https");
      assert.deepEqual(proxy.seen, ["GET http://plain.metadata.test/via-proxy", "CONNECT metadata.test:443"]);
      assert.deepEqual(proxy.auth, [undefined, "Basic " + Buffer.from("user:pw").toString("base64")]);
      assert.equal(plain.requests[0]!.url, "/via-proxy");
    });

    it("does not use the proxy for a noProxy host", async () => {
      const proxy = await startProxy({});
      servers.push(proxy);
      const settings = { proxy: { httpProxy: proxy.url, noProxy: ["elsewhere.test"] }, timeouts: { httpTotal: 1 } };
      await assert.rejects(fetchToBuffer({ source: "http://elsewhere.test/x" }, settings), /gave up after .*(ENOTFOUND|EAI_AGAIN)/);
      assert.deepEqual(proxy.seen, []);
    });
  });
});
