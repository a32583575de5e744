// gs:// sources against the lab's Cloud Storage (test/lab/fakes/gcs.ts) at
// storage.googleapis.com inside a network namespace, with the service
// account's token from the gcp fake's metadata server. The fake keeps the
// tokens the metadata server handed out and refuses any other, expired ones
// and anonymous reads of a private bucket, with the service's JSON errors.

import assert from "node:assert/strict";
import { gcsError, gcsUrl, parseGsSource } from "../../../agent/resource/gcs";
import { labOn, merging, writing } from "./lab-fetch";

describe("gs:// sources: what Flint reads where", () => {
  it("asks the JSON API for the object's media, the name escaped as one segment", () => {
    const { bucket, object } = parseGsSource("gs://my-bucket/dir/a%20b.ign", "x");
    assert.deepEqual({ bucket, object }, { bucket: "my-bucket", object: "dir/a b.ign" });
    assert.equal(gcsUrl(bucket, object), "https://storage.googleapis.com/storage/v1/b/my-bucket/o/dir%2Fa%20b.ign?alt=media");
    assert.throws(() => parseGsSource("gs://bucket-only", "x"), /names a bucket and an object/);
  });

  it("reads the service's JSON errors", () => {
    assert.deepEqual(gcsError('{"error":{"code":401,"message":"Invalid Credentials","errors":[{"reason":"authError"}]}}'), { message: "Invalid Credentials", reason: "authError" });
  });
});

describe("gs:// in the lab namespace with the VM's service account (no VM)", function () {
  this.timeout(120_000);
  const cloud = labOn("gcp");
  const fetchOnGcp = cloud.fetch;
  const gcsRequests = () => cloud.requestsTo("198.51.100.4");

  it("reads a private object with the default service account's token (devstorage.read_only)", async () => {
    const result = await fetchOnGcp({ userdata: merging("gs://flint-lab-gcs/configs/child.ign"), objects: { "gs://flint-lab-gcs/configs/child.ign": writing("/etc/from-gcs") } });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.files().includes("/etc/from-gcs"));
    assert.deepEqual(gcsRequests(), ["198.51.100.4 GET /storage/v1/b/flint-lab-gcs/o/configs%2Fchild.ign?alt=media 200"]);
    assert.ok(cloud.lab.requests.some((r) => r.includes("GET /computeMetadata/v1/instance/service-accounts/default/token?scopes=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fdevstorage.read_only 200")), cloud.lab.requests.join("\n"));
    assert.doesNotMatch(result.stderr, /ya29\./, "no token reaches the log");
  });

  it("a token Cloud Storage does not know is refused (401 authError); one new token, then the fetch fails naming it", async () => {
    const result = await fetchOnGcp({ scenario: "foreign-token", userdata: merging("gs://flint-lab-gcs/child.ign"), objects: { "gs://flint-lab-gcs/child.ign": writing("/etc/from-gcs") } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Cloud Storage answered HTTP 401 authError: Invalid Credentials \(with the token of service account flint-lab@flint-lab\.iam\.gserviceaccount\.com\)/);
    assert.deepEqual(gcsRequests().map((r) => r.split(" ").pop()), ["401", "401"]);
  });

  it("an expired token is refused the same way", async () => {
    const result = await fetchOnGcp({ scenario: "expired-token", userdata: merging("gs://flint-lab-gcs/child.ign"), objects: { "gs://flint-lab-gcs/child.ign": writing("/etc/from-gcs") } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Cloud Storage answered HTTP 401 authError: Invalid Credentials/);
  });

  it("no service account: read anonymously, as Ignition does; a private object is 401 required, a public one is read", async () => {
    const denied = await fetchOnGcp({ scenario: "no-service-account", userdata: merging("gs://flint-lab-gcs/child.ign"), objects: { "gs://flint-lab-gcs/child.ign": writing("/etc/from-gcs") } });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /Cloud Storage answered HTTP 401 required: Anonymous caller does not have storage\.objects\.get access.*\(anonymously: the VM has no service account\)/);
    const read = await fetchOnGcp({ scenario: "no-service-account", userdata: merging("gs://flint-lab-gcs-public/child.ign"), objects: { "gs://flint-lab-gcs-public/child.ign": writing("/etc/from-public-gcs") } });
    assert.equal(read.status, 0, read.stderr);
    assert.ok(read.files().includes("/etc/from-public-gcs"));
  });

  it("a missing object is 404 notFound, named in the error", async () => {
    const result = await fetchOnGcp({ userdata: merging("gs://flint-lab-gcs/nothing.ign") });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Cloud Storage answered HTTP 404 notFound: No such object: flint-lab-gcs\/nothing\.ign/);
  });
});
