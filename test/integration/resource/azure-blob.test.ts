// Azure Blob URLs against the lab's storage account (test/lab/fakes/azure-blob.ts)
// at ACCOUNT.blob.core.windows.net inside a network namespace, with the
// managed identity's token from the azure fake's IMDS. The fake checks the
// token's signature, lifetime and audience and the identity's role, and
// answers anonymous reads of a private container with 404, as the service does.

import assert from "node:assert/strict";
import { isAzureBlobUrl } from "../../../agent/resource/azure-blob";
import { labOn, merging, writing } from "./lab-fetch";

const BLOB = "https://flintlab.blob.core.windows.net/configs/child.ign";
const PUBLIC_BLOB = "https://flintlab.blob.core.windows.net/public/child.ign";

describe("Azure Blob URLs: which Flint reads with the managed identity", () => {
  it("an account's blob endpoint with a container and a blob (in a virtual directory too)", () => {
    assert.equal(isAzureBlobUrl("https://acct.blob.core.windows.net/c/b.ign"), true);
    assert.equal(isAzureBlobUrl("https://acct.blob.core.windows.net/c/dir/b.ign"), true);
    assert.equal(isAzureBlobUrl("https://acct.blob.core.windows.net/c"), false);
    assert.equal(isAzureBlobUrl("https://acct.blob.core.windows.net.example.com/c/b"), false);
    assert.equal(isAzureBlobUrl("http://acct.blob.core.windows.net/c/b"), false);
  });
});

describe("Azure Blob in the lab namespace with the managed identity (no VM)", function () {
  this.timeout(120_000);
  const cloud = labOn("azure");
  const fetchOnAzure = cloud.fetch;
  const blobRequests = () => cloud.requestsTo("198.51.100.5");

  it("reads a private blob with the managed identity's token", async () => {
    const result = await fetchOnAzure({ userdata: merging(BLOB), objects: { [BLOB]: writing("/etc/from-blob") } });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.files().includes("/etc/from-blob"));
    assert.deepEqual(blobRequests(), ["198.51.100.5 GET /configs/child.ign 200"]);
    assert.ok(cloud.lab.requests.some((r) => r.includes("GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fstorage.azure.com 200")), cloud.lab.requests.join("\n"));
    assert.doesNotMatch(result.stderr, /eyJ0eXAi/, "no token reaches the log");
  });

  it("a token signed with another key is refused (401 InvalidAuthenticationInfo); then anonymously, as Ignition, which the private container refuses too", async () => {
    const result = await fetchOnAzure({ scenario: "foreign-token", userdata: merging(BLOB), objects: { [BLOB]: writing("/etc/from-blob") } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /Azure Storage answered HTTP 404 ResourceNotFound: The specified resource does not exist\. \(anonymously\); with the managed identity: Azure Storage answered HTTP 401 InvalidAuthenticationInfo: Server failed to authenticate the request\..*\(Signature validation failed/);
    assert.deepEqual(blobRequests().map((r) => r.split(" ").pop()), ["401", "401", "404"]);
  });

  it("an expired token is refused: Lifetime validation failed", async () => {
    const result = await fetchOnAzure({ scenario: "expired-token", userdata: merging(BLOB), objects: { [BLOB]: writing("/etc/from-blob") } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /401 InvalidAuthenticationInfo.*Lifetime validation failed\. The token is expired\./);
  });

  it("an identity without a Storage Blob Data role: 403 AuthorizationPermissionMismatch", async () => {
    const result = await fetchOnAzure({ scenario: "no-storage-role", userdata: merging(BLOB), objects: { [BLOB]: writing("/etc/from-blob") } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /403 AuthorizationPermissionMismatch: This request is not authorized to perform this operation using this permission\./);
  });

  it("an identity endpoint that never gets ready (404): after 20 s the blob is read anonymously, not waited for forever", async () => {
    const started = Date.now();
    const read = await fetchOnAzure({ scenario: "identity-not-ready", userdata: merging(PUBLIC_BLOB), objects: { [PUBLIC_BLOB]: writing("/etc/from-public-blob") } });
    assert.equal(read.status, 0, read.stderr);
    assert.ok(read.files().includes("/etc/from-public-blob"));
    assert.match(read.stderr, /no token from the managed identity \(.*gave up after \d+ tries.*\): Azure Blob URLs are read anonymously/);
    assert.ok(Date.now() - started < 60_000);
  });

  it("no managed identity (IMDS: Identity not found): read anonymously; a private blob is 404, a public one is read", async () => {
    const denied = await fetchOnAzure({ scenario: "no-identity", userdata: merging(BLOB), objects: { [BLOB]: writing("/etc/from-blob") } });
    assert.equal(denied.status, 1);
    assert.match(denied.stderr, /Azure Storage answered HTTP 404 ResourceNotFound: The specified resource does not exist\. \(anonymously: no token from a managed identity\)/);
    const read = await fetchOnAzure({ scenario: "no-identity", userdata: merging(PUBLIC_BLOB), objects: { [PUBLIC_BLOB]: writing("/etc/from-public-blob") } });
    assert.equal(read.status, 0, read.stderr);
    assert.ok(read.files().includes("/etc/from-public-blob"));
  });
});
