// s3:// and arn: sources against the lab's S3 (test/lab/fakes/s3.ts) at its
// real names inside a network namespace, with the instance role's
// credentials from the aws fake's IMDS. The fake verifies SigV4 with its own
// implementation, itself checked here against AWS's published examples, so
// a wrong signer in Flint fails these tests.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseS3Source, s3Error, s3Url } from "../../../agent/resource/s3";
import { canonicalRequest, EMPTY_SHA256, signature, stringToSign } from "../../lab/fakes/s3";
import { labOn, merging } from "./lab-fetch";

const CHILD = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-s3", contents: { source: "data:,from%20s3" } }] } });
const PUBLIC_CHILD = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-public-s3", contents: { source: "data:,public" } }] } });

describe("the lab's S3 checks SigV4 as AWS documents it", () => {
  // AWS's examples of signed S3 requests (Signature Version 4, header-based), with their published signatures.
  const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  const headers = { host: "examplebucket.s3.amazonaws.com", "x-amz-content-sha256": EMPTY_SHA256, "x-amz-date": "20130524T000000Z" };
  const examples = [
    { path: "/test.txt", query: "", headers: { ...headers, range: "bytes=0-9" }, signed: ["host", "range", "x-amz-content-sha256", "x-amz-date"], expect: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41" },
    { path: "/", query: "lifecycle", headers, signed: ["host", "x-amz-content-sha256", "x-amz-date"], expect: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543" },
    { path: "/", query: "max-keys=2&prefix=J", headers, signed: ["host", "x-amz-content-sha256", "x-amz-date"], expect: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7" },
  ];
  for (const e of examples) {
    it(`GET ${e.path}${e.query ? `?${e.query}` : ""}: the published signature`, () => {
      const canonical = canonicalRequest({ method: "GET", path: e.path, query: e.query, headers: e.headers }, e.signed, EMPTY_SHA256);
      const toSign = stringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", canonical);
      assert.equal(signature(SECRET, "20130524", "us-east-1", "s3", toSign), e.expect);
      assert.notEqual(signature(SECRET.replace("w", "W"), "20130524", "us-east-1", "s3", toSign), e.expect);
    });
  }
});

describe("S3 sources: what Flint reads where", () => {
  it("reads s3:// URLs, bucket ARNs and access point ARNs as Ignition does", () => {
    assert.deepEqual(parseS3Source("s3://my-bucket/dir/a%20b.ign?versionId=3HL4kqtJ", "x"), { bucket: "my-bucket", key: "dir/a b.ign", versionId: "3HL4kqtJ" });
    assert.deepEqual(parseS3Source("arn:aws-cn:s3:::my-bucket/k", "x"), { bucket: "my-bucket", key: "k", versionId: undefined, regionHint: "cn-north-1" });
    assert.deepEqual(parseS3Source("arn:aws:s3:eu-west-1:123456789012:accesspoint/ap/object/a/b", "x"), {
      bucket: "arn:aws:s3:eu-west-1:123456789012:accesspoint/ap",
      key: "a/b",
      versionId: undefined,
      region: "eu-west-1",
      regionHint: "us-east-1",
      accessPoint: { name: "ap", account: "123456789012" },
    });
    assert.throws(() => parseS3Source("arn:aws:s3:eu-west-1:123456789012:accesspoint/ap/a", "x"), /access point ARN is/);
    assert.throws(() => parseS3Source("arn:aws:iam::123456789012:role/x", "x"), /invalid S3 ARN/);
    assert.throws(() => parseS3Source("s3://bucket-only", "x"), /names a bucket and a key/);
  });

  it("addresses DNS-label buckets virtual-hosted, dotted ones path-style, China under amazonaws.com.cn", () => {
    assert.equal(s3Url({ bucket: "my-bucket" }, "a b/c+d", "eu-west-1", true), "https://my-bucket.s3.dualstack.eu-west-1.amazonaws.com/a%20b/c%2Bd");
    assert.equal(s3Url({ bucket: "my.bucket" }, "k", "eu-west-1", true), "https://s3.dualstack.eu-west-1.amazonaws.com/my.bucket/k");
    assert.equal(s3Url({ bucket: "my.bucket" }, "", "us-east-1", false), "https://s3.us-east-1.amazonaws.com/my.bucket");
    assert.equal(s3Url({ bucket: "b-1" }, "", "cn-north-1", false), "https://b-1.s3.cn-north-1.amazonaws.com.cn/");
    assert.equal(s3Url({ bucket: "x", accessPoint: { name: "ap", account: "123456789012" } }, "k", "eu-west-1", true), "https://ap-123456789012.s3-accesspoint.dualstack.eu-west-1.amazonaws.com/k");
  });

  it("reads S3's XML errors", () => {
    assert.deepEqual(s3Error('<?xml version="1.0"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>the region &apos;us-east-1&apos; is wrong</Message><Region>eu-west-1</Region></Error>'), {
      Code: "AuthorizationHeaderMalformed",
      Message: "the region 'us-east-1' is wrong",
      Region: "eu-west-1",
    });
  });
});

describe("S3 in the lab namespace with the instance role (no VM)", function () {
  this.timeout(120_000);
  const cloud = labOn("aws");
  const fetchOnAws = cloud.fetch;
  const s3Requests = () => cloud.requestsTo("198.51.100.3");
  const imdsRequests = () => cloud.requestsTo("169.254.169.254");

  it("s3:// in another region: the region from an unsigned HEAD (301 + x-amz-bucket-region), then a signed GET at its dual-stack endpoint", async () => {
    const result = await fetchOnAws({ userdata: merging("s3://flint-lab-west/configs/child.ign"), objects: { "s3://flint-lab-west/configs/child.ign": CHILD } });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.files().includes("/etc/from-s3"));
    assert.deepEqual(s3Requests(), ["198.51.100.3 HEAD / 301", "198.51.100.3 GET /configs/child.ign 200"]);
    assert.ok(imdsRequests().some((r) => r.includes("GET /latest/meta-data/iam/security-credentials/flint-lab-instance-role 200")), imdsRequests().join("\n"));
    assert.ok(imdsRequests().some((r) => r.includes("GET /latest/meta-data/placement/region 200")));
    assert.doesNotMatch(result.stderr, /IQoJb3JpZ2luX2Vj|ASIA[0-9A-F]{16}/, "no credential reaches the log");
  });

  it("a dotted bucket path-style, with versionId; a bucket ARN; an access point ARN", async () => {
    const config = JSON.stringify({
      ignition: { version: "3.4.0", config: { merge: [{ source: "s3://flint.lab.dotted/v.ign?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY" }, { source: "arn:aws:s3:::flint-lab-east/plain.ign" }, { source: "arn:aws:s3:eu-west-1:123456789012:accesspoint/flint-lab-ap/object/ap/child.ign" }] } },
    });
    const file = (path: string) => JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path }] } });
    const result = await fetchOnAws({
      userdata: config,
      objects: {
        "s3://flint.lab.dotted/v.ign": file("/etc/current-version"),
        "s3://flint.lab.dotted/v.ign?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY": file("/etc/old-version"),
        "s3://flint-lab-east/plain.ign": file("/etc/bucket-arn"),
        "s3://flint-lab-west/ap/child.ign": file("/etc/access-point"),
      },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.files().sort(), ["/etc/access-point", "/etc/bucket-arn", "/etc/hostname", "/etc/old-version"]);
    assert.deepEqual(s3Requests(), [
      "198.51.100.3 HEAD /flint.lab.dotted 301",
      "198.51.100.3 GET /flint.lab.dotted/v.ign?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY 200",
      // Asked anonymously: a private bucket in the hint's region answers 403, with its region.
      "198.51.100.3 HEAD / 403",
      "198.51.100.3 GET /plain.ign 200",
      "198.51.100.3 GET /ap/child.ign 200",
    ]);
  });

  it("a wrong signature is refused (403 SignatureDoesNotMatch) and the fetch fails naming it", async () => {
    const result = await fetchOnAws({ scenario: "wrong-secret", userdata: merging("s3://flint-lab-east/child.ign"), objects: { "s3://flint-lab-east/child.ign": CHILD } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /S3 answered HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match.*signed with the credentials of instance role flint-lab-instance-role/);
    assert.ok(s3Requests().every((r) => !r.endsWith(" 200")));
  });

  it("expired credentials: S3 answers 400 ExpiredToken; Flint asks IMDS once more, then fails naming it", async () => {
    const result = await fetchOnAws({ scenario: "expired-credentials", userdata: merging("s3://flint-lab-east/child.ign"), objects: { "s3://flint-lab-east/child.ign": CHILD } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /S3 answered HTTP 400 ExpiredToken: The provided token has expired/);
    assert.deepEqual(s3Requests().filter((r) => r.includes("GET")), ["198.51.100.3 GET /child.ign 400", "198.51.100.3 GET /child.ign 400"]);
  });

  it("credentials that expired before IMDS renewed them: renewed, then read", async () => {
    const result = await fetchOnAws({ scenario: "stale-credentials", userdata: merging("s3://flint-lab-east/child.ign"), objects: { "s3://flint-lab-east/child.ign": CHILD } });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.files().includes("/etc/from-s3"));
  });

  it("a machine clock an hour off: 403 RequestTimeTooSkewed, then signed with S3's time and read", async () => {
    const result = await fetchOnAws({ scenario: "clock-behind", userdata: merging("s3://flint-lab-east/child.ign"), objects: { "s3://flint-lab-east/child.ign": CHILD } });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.files().includes("/etc/from-s3"));
    assert.deepEqual(s3Requests().filter((r) => r.includes("GET")), ["198.51.100.3 GET /child.ign 403", "198.51.100.3 GET /child.ign 200"]);
    assert.match(result.stderr, /the system clock is 3600 s behind S3's; signing with S3's time/);
  });

  it("no instance role: read anonymously, as Ignition does; a private object is 403 AccessDenied, a public one is read", async () => {
    const denied = await fetchOnAws({ scenario: "no-role", userdata: merging("s3://flint-lab-east/child.ign"), objects: { "s3://flint-lab-east/child.ign": CHILD } });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /S3 answered HTTP 403 AccessDenied: Access Denied \(anonymously: the instance has no IAM role\)/);
    const read = await fetchOnAws({ scenario: "no-role", userdata: merging("s3://flint-lab-public/child.ign"), objects: { "s3://flint-lab-public/child.ign": PUBLIC_CHILD } });
    assert.equal(read.status, 0, read.stderr);
    assert.ok(read.files().includes("/etc/from-public-s3"));
  });

  it("the files stage reads an s3:// file's contents with the instance role too (the platform from fetch's record)", async () => {
    const config = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-s3-file", mode: 0o600, contents: { source: "s3://flint-lab-west/secret.txt", verification: { hash: `sha256-${createHash("sha256").update("s3 secret\n").digest("hex")}` } } }] } });
    const fetched = await fetchOnAws({ userdata: config, objects: { "s3://flint-lab-west/secret.txt": "s3 secret\n" } });
    assert.equal(fetched.status, 0, fetched.stderr);
    const root = join(cloud.lab.dir, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    const files = await cloud.lab.flint(["files", "--root", root, "--cache", join(cloud.lab.dir, "run/config.json")], { NODE_EXTRA_CA_CERTS: cloud.lab.caFile });
    assert.equal(files.status, 0, files.stderr + files.stdout);
    assert.equal(readFileSync(join(root, "etc/from-s3-file"), "utf8"), "s3 secret\n");
    assert.ok(s3Requests().includes("198.51.100.3 GET /secret.txt 200"), s3Requests().join("\n"));
  });

  it("a missing key is 404 NoSuchKey, named in the error", async () => {
    const result = await fetchOnAws({ userdata: merging("s3://flint-lab-east/nothing-here.ign") });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /S3 answered HTTP 404 NoSuchKey: The specified key does not exist/);
  });
});
