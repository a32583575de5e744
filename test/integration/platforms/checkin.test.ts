// `flint checkin`: the clouds hear how the first boot ended, at their real
// addresses in a lab namespace — Azure's WireServer (168.63.129.16) a Ready
// or NotReady health report naming the goal state's ids, Equinix Metal the
// timeline event and the phone-home — and after success VMware's guestinfo
// and VirtualBox's guest properties lose the config (their tools are
// scripts keeping the properties in files, as in every-platform.test.ts).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LAB_IDS } from "../../lab/fakes/azure-wireserver";
import { installTool, RPCTOOL, VBOXCONTROL } from "../../lab/fake-tools";
import { startLab, type Lab } from "../../lab/netns";
import { buildBundle } from "../../helpers/bundle";

describe("check-in after the first boot (flint checkin)", function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  before(buildBundle);
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  const env = (l: Lab, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    mkdirSync(join(l.dir, "bin"), { recursive: true });
    writeFileSync(join(l.dir, "cmdline"), "");
    return { NODE_EXTRA_CA_CERTS: l.caFile, PATH: `${join(l.dir, "bin")}:${process.env.PATH}`, ...extra };
  };
  const checkin = (l: Lab, platform: string, e: NodeJS.ProcessEnv, ...more: string[]) => l.flint(["checkin", "--platform", platform, "--cmdline-file", join(l.dir, "cmdline"), ...more], e);
  const curl = (l: Lab, ...args: string[]): string =>
    spawnSync("ip", ["netns", "exec", l.name, "curl", "-s", "-w", " %{http_code}", "--max-time", "10", ...args], { encoding: "utf8" }).stdout.trim();

  it("azure: Ready to the WireServer, with the goal state's incarnation, container and instance", async () => {
    lab = await startLab({ platform: "azure" });
    const result = await checkin(lab, "azure", env(lab));
    assert.equal(result.status, 0, result.stderr);
    const wire = lab.requests.filter((r) => r.startsWith("168.63.129.16"));
    assert.deepEqual(wire, ["168.63.129.16 GET /?comp=versions 200", "168.63.129.16 GET /machine/?comp=goalstate 200", "168.63.129.16 HEALTH Ready", "168.63.129.16 POST /machine/?comp=health 200"]);
    assert.match(result.stderr, new RegExp(`container=${LAB_IDS.containerId}`));
  });

  it("azure: NotReady with ProvisioningFailed and the failure's one-line reason", async () => {
    lab = await startLab({ platform: "azure" });
    const reason = join(lab.dir, "failure");
    writeFileSync(reason, "Flint failed in stage files: storage.files.0: cannot write <&> here\n");
    const result = await checkin(lab, "azure", env(lab), "--failed", "--reason-file", reason);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(lab.requests.includes("168.63.129.16 HEALTH NotReady ProvisioningFailed: Flint failed in stage files: storage.files.0: cannot write <&> here"), lab.requests.join("\n"));
  });

  it("azure: the fake WireServer refuses what the real one refuses", async () => {
    lab = await startLab({ platform: "azure" });
    const headers = ["-H", "x-ms-agent-name: test", "-H", "x-ms-version: 2012-11-30"];
    assert.match(curl(lab, "http://168.63.129.16/machine/?comp=goalstate"), / 400$/);
    assert.match(curl(lab, "-H", "x-ms-version: 2012-11-30", "http://168.63.129.16/machine/?comp=goalstate"), / 400$/);
    assert.match(curl(lab, ...headers, "http://168.63.129.16/machine/?comp=goalstate"), /<ContainerId>c6d5e4f3[\s\S]* 200$/);
    const report = (container: string) => `<?xml version="1.0" encoding="utf-8"?><Health><GoalStateIncarnation>1</GoalStateIncarnation><Container><ContainerId>${container}</ContainerId><RoleInstanceList><Role><InstanceId>${LAB_IDS.instanceId}</InstanceId><Health><State>Ready</State></Health></Role></RoleInstanceList></Container></Health>`;
    const post = (body: string, type = "text/xml; charset=utf-8") => curl(lab!, ...headers, "-H", `Content-Type: ${type}`, "--data-binary", body, "http://168.63.129.16/machine/?comp=health");
    assert.match(post(report("not-the-container")), /ContainerId does not match[\s\S]* 400$/);
    assert.match(post(report(LAB_IDS.containerId), "application/json"), / 400$/);
    assert.match(post(report(LAB_IDS.containerId).replace("<State>Ready</State>", "<State>NotReady</State>")), /needs Details[\s\S]* 400$/);
    assert.equal(post(report(LAB_IDS.containerId)), "200");
  });

  it("packet: the timeline hears `running` and the phone-home is posted", async () => {
    lab = await startLab({ platform: "packet" });
    const result = await checkin(lab, "packet", env(lab));
    assert.equal(result.status, 0, result.stderr);
    assert.ok(lab.requests.includes("198.51.100.80 EVENT running Flint: provisioning finished"), lab.requests.join("\n"));
    assert.ok(lab.requests.includes("198.51.100.80 PHONE-HOME"), lab.requests.join("\n"));
  });

  it("packet: after a failure the timeline hears `failed` with the reason, and no phone-home", async () => {
    lab = await startLab({ platform: "packet" });
    const reason = join(lab.dir, "failure");
    writeFileSync(reason, "Flint failed in stage disks: no such device\n");
    const result = await checkin(lab, "packet", env(lab), "--failed", "--reason-file", reason);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(lab.requests.includes("198.51.100.80 EVENT failed Flint: Flint failed in stage disks: no such device"), lab.requests.join("\n"));
    assert.equal(lab.requests.includes("198.51.100.80 PHONE-HOME"), false);
  });

  it("a platform without a check-in does nothing", async () => {
    lab = await startLab({ platform: "digitalocean" });
    const result = await checkin(lab, "digitalocean", env(lab));
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(lab.requests, []);
  });

  describe("config deletion", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "flint-checkin-"));
      mkdirSync(join(dir, "bin"));
      mkdirSync(join(dir, "state"));
      writeFileSync(join(dir, "cmdline"), "");
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const tool = (name: string, body: string) => installTool(dir, name, body);
    const run = (platform: string, ...more: string[]) =>
      spawnSync(process.execPath, [join(__dirname, "../../../dist/flint.js"), "checkin", "--platform", platform, "--cmdline-file", join(dir, "cmdline"), ...more], { encoding: "utf8", env: { ...process.env, PATH: `${join(dir, "bin")}:${process.env.PATH}` } });
    const state = (name: string) => (existsSync(join(dir, "state", name)) ? readFileSync(join(dir, "state", name), "utf8") : undefined);

    it("vmware: guestinfo data becomes `{}` in base64, and the OVF environment loses the config's properties", () => {
      tool("vmware-rpctool", RPCTOOL);
      writeFileSync(join(dir, "state/guestinfo.ignition.config.data"), "eyJzZWNyZXQiOiJ5ZXMifQ==");
      writeFileSync(join(dir, "state/guestinfo.ovfenv"), OVF_ENV);
      const result = run("vmware");
      assert.equal(result.status, 0, result.stderr);
      assert.equal(state("guestinfo.ignition.config.data"), "e30K");
      assert.equal(state("guestinfo.ignition.config.data.encoding"), "base64");
      const ovf = state("guestinfo.ovfenv")!;
      assert.doesNotMatch(ovf, /ignition\.config\.data/);
      assert.match(ovf, /oe:key="guestinfo.hostname" oe:value="flint"/);
    });

    it("vmware: nothing is deleted after a failure", () => {
      tool("vmware-rpctool", RPCTOOL);
      writeFileSync(join(dir, "state/guestinfo.ignition.config.data"), "eyJ9");
      const result = run("vmware", "--failed");
      assert.equal(result.status, 0, result.stderr);
      assert.equal(state("guestinfo.ignition.config.data"), "eyJ9");
    });

    it("virtualbox: both guest properties are deleted", () => {
      tool("VBoxControl", VBOXCONTROL);
      writeFileSync(join(dir, "state/_Ignition_Config"), "{}");
      writeFileSync(join(dir, "state/_Ignition_Config_Encoding"), "");
      const result = run("virtualbox");
      assert.equal(result.status, 0, result.stderr);
      assert.equal(state("_Ignition_Config"), undefined);
      assert.equal(state("_Ignition_Config_Encoding"), undefined);
    });
  });
});

const OVF_ENV = `<?xml version="1.0" encoding="UTF-8"?>
<Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1">
  <PropertySection>
    <Property oe:key="guestinfo.hostname" oe:value="flint"/>
    <Property oe:key="guestinfo.ignition.config.data" oe:value="eyJzZWNyZXQiOiJ5ZXMifQ=="/>
    <Property oe:key="guestinfo.ignition.config.data.encoding" oe:value="base64"/>
  </PropertySection>
</Environment>
`;
