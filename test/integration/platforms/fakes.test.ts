// The fake clouds refuse what the real ones refuse, so a Flint that forgot
// a header, a token or a query string fails against them (curl inside the
// lab namespace, at the real addresses).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { startLab, type Lab } from "../../lab/netns";

describe("the fake clouds answer as the real ones do", function () {
  this.timeout(60_000);
  let lab: Lab | undefined;
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  /** `BODY STATUS` of a request made with curl inside the lab. */
  const curl = (l: Lab, ...args: string[]): string =>
    spawnSync("ip", ["netns", "exec", l.name, "curl", "-s", "-w", " %{http_code}", "--max-time", "10", ...args], { encoding: "utf8" }).stdout.trim();

  it("aws: a token needs the TTL header; every GET needs a valid token", async () => {
    lab = await startLab({ platform: "aws", userdata: "data" });
    assert.match(curl(lab, "http://169.254.169.254/latest/user-data"), / 401$/);
    assert.match(curl(lab, "-X", "PUT", "http://169.254.169.254/latest/api/token"), / 400$/);
    assert.match(curl(lab, "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 21601", "http://169.254.169.254/latest/api/token"), / 400$/);
    assert.match(curl(lab, "-H", "X-aws-ec2-metadata-token: forged", "http://169.254.169.254/latest/user-data"), / 401$/);
    const token = curl(lab, "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60", "http://169.254.169.254/latest/api/token").replace(/ 200$/, "");
    assert.equal(curl(lab, "-H", `X-aws-ec2-metadata-token: ${token}`, "http://169.254.169.254/latest/user-data"), "data 200");
    assert.equal(curl(lab, "-H", `X-aws-ec2-metadata-token: ${token}`, "http://[fd00:ec2::254]/latest/meta-data/instance-id"), "i-0123456789abcdef0 200");
  });

  it("gcp: 403 without Metadata-Flavor: Google; answers carry the header", async () => {
    lab = await startLab({ platform: "gcp", userdata: "data" });
    assert.match(curl(lab, "http://169.254.169.254/computeMetadata/v1/instance/attributes/user-data"), / 403$/);
    assert.equal(curl(lab, "-H", "Metadata-Flavor: Google", "http://169.254.169.254/computeMetadata/v1/instance/attributes/user-data"), "data 200");
    assert.match(curl(lab, "-H", "Metadata-Flavor: Google", "http://169.254.169.254/computeMetadata/v1/instance/attributes/ssh-keys"), / 404$/);
    assert.match(curl(lab, "-I", "-H", "Metadata-Flavor: Google", "http://169.254.169.254/computeMetadata/v1/instance/hostname"), /Metadata-Flavor: Google/i);
  });

  it("azure: 400 without Metadata: true, without or with an unknown api-version, or for a leaf without format=text", async () => {
    lab = await startLab({ platform: "azure", userdata: "data" });
    const url = "http://169.254.169.254/metadata/instance/compute/userData";
    assert.match(curl(lab, `${url}?api-version=2021-01-01&format=text`), /Required metadata header.* 400$/);
    assert.match(curl(lab, "-H", "Metadata: true", `${url}?format=text`), /api-version was not specified.* 400$/);
    assert.match(curl(lab, "-H", "Metadata: true", `${url}?api-version=2099-01-01&format=text`), /newest-versions.* 400$/);
    assert.match(curl(lab, "-H", "Metadata: true", `${url}?api-version=2021-01-01`), / 400$/);
    assert.equal(curl(lab, "-H", "Metadata: true", `${url}?api-version=2021-01-01&format=text`), `${Buffer.from("data").toString("base64")} 200`);
  });

  it("packet: HTTPS at metadata.packet.net only; 406 to an Accept it cannot serve", async () => {
    lab = await startLab({ platform: "packet", userdata: "data" });
    assert.equal(curl(lab, "--cacert", lab.caFile, "https://metadata.packet.net/userdata"), "data 200");
    assert.match(curl(lab, "--cacert", lab.caFile, "-H", "Accept: application/vnd.coreos.ignition+json", "https://metadata.packet.net/userdata"), / 406$/);
    assert.equal(curl(lab, "http://metadata.packet.net/userdata"), "000", "nothing answers plain HTTP");
  });
});
