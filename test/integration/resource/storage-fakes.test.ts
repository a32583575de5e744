// The lab's storage services refuse what the real ones refuse, checked with
// another client than Flint: curl inside the lab namespace, at the real
// names, signing S3 requests with its own SigV4 (`--aws-sigv4`) and carrying
// the tokens the metadata services hand out. So the fakes that Flint's
// tests rely on are not shaped after Flint.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startLab, type Lab } from "../../lab/netns";

describe("the lab's storage services answer as the real ones do", function () {
  this.timeout(60_000);
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  /** `BODY STATUS` (or with `-I`, the headers) of a request made with curl inside the lab, trusting the lab's CA. */
  const curl = (...args: string[]): string =>
    spawnSync("ip", ["netns", "exec", lab!.name, "curl", "-s", "--cacert", lab!.caFile, "-w", " %{http_code}", "--max-time", "10", ...args], { encoding: "utf8" }).stdout.trim();
  const body = (answer: string) => answer.replace(/ \d{3}$/, "");

  it("S3: unsigned, wrongly signed, wrong region, tokenless and expired requests refused; curl's own SigV4 with the role's credentials accepted", async () => {
    lab = await startLab({ platform: "aws", objects: { "s3://flint-lab-west/k.txt": "object\n" } });
    const imds = ["-H", `X-aws-ec2-metadata-token: ${body(curl("-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://169.254.169.254/latest/api/token"))}`];
    assert.equal(curl(...imds, "http://169.254.169.254/latest/meta-data/iam/security-credentials/"), "flint-lab-instance-role 200");
    const role = JSON.parse(body(curl(...imds, "http://169.254.169.254/latest/meta-data/iam/security-credentials/flint-lab-instance-role")));
    assert.equal(role.Code, "Success");
    assert.match(role.AccessKeyId, /^ASIA/);
    const url = "https://flint-lab-west.s3.eu-west-1.amazonaws.com/k.txt";
    /** curl's SigV4 with these credentials; `token` null sends none. */
    const signed = (keyId: string, secret: string, region = "eu-west-1", token: string | null = role.Token) => [
      "--aws-sigv4", `aws:amz:${region}:s3`, "--user", `${keyId}:${secret}`,
      "-H", "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      ...(token !== null ? ["-H", `x-amz-security-token: ${token}`] : []),
    ];
    assert.equal(curl(...signed(role.AccessKeyId, role.SecretAccessKey), url), "object\n 200");
    assert.match(curl(url), /<Code>AccessDenied<\/Code>.* 403$/s);
    assert.match(curl(...signed(role.AccessKeyId, `${role.SecretAccessKey}x`), url), /<Code>SignatureDoesNotMatch<\/Code>.*<CanonicalRequest>GET\n\/k\.txt\n.* 403$/s);
    assert.match(curl(...signed("ASIANOSUCHKEY0000000", role.SecretAccessKey), url), /<Code>InvalidAccessKeyId<\/Code>.* 403$/s);
    assert.match(curl(...signed(role.AccessKeyId, role.SecretAccessKey, "us-east-1"), url), /<Code>AuthorizationHeaderMalformed<\/Code>.*<Region>eu-west-1<\/Region>.* 400$/s);
    assert.match(curl(...signed(role.AccessKeyId, role.SecretAccessKey, "eu-west-1", "forged"), url), /<Code>InvalidToken<\/Code>.* 400$/s);
    assert.match(curl(...signed(role.AccessKeyId, role.SecretAccessKey, "eu-west-1", null), url), /<Code>InvalidAccessKeyId<\/Code>.* 403$/s);
    // Another region's endpoint: 301 and the bucket's region, to an unsigned HEAD too.
    assert.match(curl("-I", "https://flint-lab-west.s3.us-east-1.amazonaws.com/"), /^HTTP\/1\.1 301.*x-amz-bucket-region: eu-west-1/ims);
    assert.match(curl("-I", "https://flint-lab-west.s3.eu-west-1.amazonaws.com/"), /^HTTP\/1\.1 403.*x-amz-bucket-region: eu-west-1/ims);
    assert.match(curl(...signed(role.AccessKeyId, role.SecretAccessKey), "https://flint-lab-west.s3.eu-west-1.amazonaws.com/missing"), /<Code>NoSuchKey<\/Code>.* 404$/s);
  });

  it("S3: credentials IMDS handed out expired are refused with 400 ExpiredToken", async () => {
    lab = await startLab({ platform: "aws", scenario: "expired-credentials", objects: { "s3://flint-lab-east/k.txt": "object\n" } });
    const imds = ["-H", `X-aws-ec2-metadata-token: ${body(curl("-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://169.254.169.254/latest/api/token"))}`];
    const role = JSON.parse(body(curl(...imds, "http://169.254.169.254/latest/meta-data/iam/security-credentials/flint-lab-instance-role")));
    assert.ok(Date.parse(role.Expiration) < Date.now());
    const answer = curl("--aws-sigv4", "aws:amz:us-east-1:s3", "--user", `${role.AccessKeyId}:${role.SecretAccessKey}`, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-H", `x-amz-security-token: ${role.Token}`, "https://flint-lab-east.s3.us-east-1.amazonaws.com/k.txt");
    assert.match(answer, /<Code>ExpiredToken<\/Code><Message>The provided token has expired\.<\/Message>.* 400$/s);
  });

  it("S3: no role, no credentials (404)", async () => {
    lab = await startLab({ platform: "aws", scenario: "no-role" });
    const imds = ["-H", `X-aws-ec2-metadata-token: ${body(curl("-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://169.254.169.254/latest/api/token"))}`];
    assert.match(curl(...imds, "http://169.254.169.254/latest/meta-data/iam/security-credentials/"), / 404$/);
  });

  it("Cloud Storage: the metadata server's token accepted; a forged one 401 authError, none 401 required", async () => {
    lab = await startLab({ platform: "gcp", objects: { "gs://flint-lab-gcs/a/b.txt": "object\n" } });
    const flavor = ["-H", "Metadata-Flavor: Google"];
    assert.match(curl("http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"), / 403$/);
    const token = JSON.parse(body(curl(...flavor, "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token"))).access_token;
    const url = "https://storage.googleapis.com/storage/v1/b/flint-lab-gcs/o/a%2Fb.txt?alt=media";
    assert.equal(curl("-H", `Authorization: Bearer ${token}`, url), "object\n 200");
    assert.match(curl("-H", "Authorization: Bearer ya29.forged", url), /"reason": "authError".* 401$/s);
    assert.match(curl(url), /"reason": "required".* 401$/s);
    assert.match(curl("-H", `Authorization: Bearer ${token}`, "https://storage.googleapis.com/storage/v1/b/flint-lab-gcs/o/nothing?alt=media"), /"reason": "notFound".* 404$/s);
  });

  it("Blob Storage: the managed identity's token accepted with x-ms-version; a tampered token 401, no x-ms-version 400, none 404", async () => {
    lab = await startLab({ platform: "azure", objects: { "https://flintlab.blob.core.windows.net/configs/b.txt": "object\n" } });
    const tokenUrl = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fstorage.azure.com";
    assert.match(curl(tokenUrl), /Required metadata header not specified.* 400$/);
    const token: string = JSON.parse(body(curl("-H", "Metadata: true", tokenUrl))).access_token;
    const url = "https://flintlab.blob.core.windows.net/configs/b.txt";
    const version = ["-H", "x-ms-version: 2023-11-03"];
    assert.equal(curl(...version, "-H", `Authorization: Bearer ${token}`, url), "object\n 200");
    assert.match(curl(...version, "-H", `Authorization: Bearer ${token.slice(0, -4)}AAAA`, url), /<Code>InvalidAuthenticationInfo<\/Code>.*Signature validation failed.* 401$/s);
    assert.match(curl("-H", `Authorization: Bearer ${token}`, url), / 400$/);
    assert.match(curl(url), /<Code>ResourceNotFound<\/Code>.* 404$/s);
  });
});
