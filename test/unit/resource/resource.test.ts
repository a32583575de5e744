import assert from "node:assert/strict";
import { backoffDelay, decodeDataUrl, describeSource, fetchToBuffer, needsNetwork } from "../../../agent/resource/index";
import { withRetries, RetryableError } from "../../../agent/resource/backoff";
import { proxyFor } from "../../../agent/resource/proxy";

describe("data URLs (RFC 2397)", () => {
  it("decodes base64 and percent-encoded payloads to bytes", () => {
    assert.equal(decodeDataUrl("data:text/plain;base64,aGVsbG8=").toString(), "hello");
    assert.equal(decodeDataUrl("data:,hello%20world%0A").toString(), "hello world\n");
    assert.deepEqual([...decodeDataUrl("data:,%ff%00")], [0xff, 0x00]);
    assert.equal(decodeDataUrl("data:;charset=utf-8,caf%C3%A9").toString("utf8"), "café");
  });

  it("rejects a data URL without a comma or with a broken escape", () => {
    assert.throws(() => decodeDataUrl("data:text/plain"), /missing ','/);
    assert.throws(() => decodeDataUrl("data:,100%"), /percent-encoding/);
  });

  it("fetches data URLs with gzip and verification", async () => {
    const gz = "data:;base64,H4sIAAAAAAAAA8tIzcnJBwCGphA2BQAAAA==";
    const data = await fetchToBuffer({ source: gz, compression: "gzip", verification: { hash: "sha256-2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" } });
    assert.equal(data.toString(), "hello");
  });

  it("names unknown schemes and the supported ones", async () => {
    await assert.rejects(fetchToBuffer({ source: "ftp://host/x" }), /unsupported URL scheme "ftp" \(supported: data, http, https, tftp, s3, arn, gs, oem\)/);
  });
});

describe("how sources are shown", () => {
  it("never shows a data URL's payload, a query string or a password", () => {
    assert.equal(describeSource("data:,secret"), "data URL (12 characters)");
    assert.equal(describeSource("https://user:pw@example.com/c.ign?token=abc"), "https://example.com/c.ign?…");
  });

  it("knows which schemes need the network", () => {
    assert.deepEqual(["data:,x", "http://a/", "https://a/", "tftp://a/x", "s3://b/k", "arn:aws:s3:::b/k", "gs://b/o"].map(needsNetwork), [false, true, true, true, true, true, true]);
  });
});

describe("retry backoff", () => {
  it("starts at 100 ms and doubles up to 5 s", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(backoffDelay), [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  });

  it("retries only retryable failures, waiting the planned delays", async () => {
    const waits: number[] = [];
    let tries = 0;
    const result = await withRetries(async () => {
      if (++tries < 9) throw new RetryableError("HTTP status 503");
      return "ok";
    }, { label: "test", sleep: async (ms) => void waits.push(ms) });
    assert.equal(result, "ok");
    assert.deepEqual(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    await assert.rejects(withRetries(async () => { throw new Error("final"); }, { label: "test", sleep: async () => assert.fail("no wait") }), /final/);
  });
});

describe("which proxy a URL uses (Ignition's noProxy rules)", () => {
  const proxy = { httpProxy: "http://proxy:3128", httpsProxy: "proxy:3129", noProxy: ["internal.example", ".corp.example", "10.0.0.0/8", "192.168.1.5", "special.example:8443"] };
  const via = (url: string) => proxyFor(new URL(url), proxy)?.toString();

  it("picks httpProxy for http and httpsProxy for https", () => {
    assert.equal(via("http://example.com/"), "http://proxy:3128/");
    assert.equal(via("https://example.com/"), "http://proxy:3129/");
  });

  it("bypasses the proxy for noProxy domains, suffixes, IPs, CIDRs and host:port", () => {
    assert.equal(via("http://internal.example/x"), undefined);
    assert.equal(via("http://a.internal.example/x"), undefined);
    assert.equal(via("http://host.corp.example/x"), undefined);
    assert.equal(via("http://corp.example/x"), "http://proxy:3128/");
    assert.equal(via("http://10.1.2.3/x"), undefined);
    assert.equal(via("http://192.168.1.5/x"), undefined);
    assert.equal(via("https://special.example:8443/"), undefined);
    assert.equal(via("https://special.example/"), "http://proxy:3129/");
  });

  it("never proxies loopback or localhost, and `*` turns the proxy off", () => {
    assert.equal(via("http://127.0.0.1:8080/"), undefined);
    assert.equal(via("http://localhost/"), undefined);
    assert.equal(proxyFor(new URL("http://example.com/"), { httpProxy: "http://p:1", noProxy: ["*"] }), undefined);
  });
});
