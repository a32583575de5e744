// First boots in the cloud lab (test/e2e/lab.ts): the real initramfs in QEMU
// on a tap in a network namespace of the test's own, with DHCP and DNS from
// dnsmasq and each cloud's fake services at the real addresses and names.
// Every boot is judged on the disk afterwards, not only on console lines.

import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { artefacts, boot, freshDisk, inspectDisk, PLACEHOLDER_GUID, scratch, writeConfig, type BootResult } from "./harness";
import { CONFIG_PORT, CONFIG_URL, LAB_ADDRESS, Lab, type LabOptions } from "./lab";

const FIRST_BOOT = `flatcar.first_boot=detected flatcar.randomize_guid=${PLACEHOLDER_GUID}`;
const SWITCHED_ROOT = "flint-test: multi-user.target reached";
/** The static address the ip= boot gives itself (the lab's bridge is 192.0.2.1/24; DHCP would hand out .100–.199). */
const STATIC_ADDRESS = "192.0.2.50";
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILabLabLabLabLabLabLabLabLabLabLabLabLabLabL lab@flint";
const dataUrl = (text: string) => `data:,${encodeURIComponent(text)}`;

function userConfig(marker: string) {
  return {
    ignition: { version: "3.3.0" },
    storage: { files: [{ path: "/etc/flint-lab/marker", mode: 0o644, contents: { source: dataUrl(`${marker}\n`) } }] },
  };
}

function assertBooted(result: BootResult): void {
  assert.equal(result.timedOut, false, `the boot hit its time limit; console: ${result.logFile}`);
  assert.equal(result.console.includes("Flint failed"), false, `a Flint stage failed; console: ${result.logFile}`);
  assert.equal(result.console.includes(SWITCHED_ROOT), true, `the real root was never reached; console: ${result.logFile}`);
}

describe("first boots in the cloud lab", function () {
  this.timeout(1_800_000);
  let dir: string;
  let lab: Lab | undefined;

  before(function () {
    this.timeout(3_600_000);
    artefacts();
    dir = scratch("lab");
  });
  afterEach(async function () {
    await lab?.stop();
    // A failed boot's lab logs (requests, dnsmasq) stay for a look.
    if (this.currentTest?.state === "passed") lab?.removeFiles();
    else if (lab) console.error(`    lab logs kept in ${lab.dir}`);
    lab = undefined;
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One first boot in a fresh lab; returns the disk and the console. */
  async function labBoot(name: string, options: Omit<LabOptions, "name">, append = ""): Promise<{ disk: string; result: BootResult }> {
    lab = await Lab.start({ name, ...options });
    const disk = freshDisk(dir, `${name}.img`);
    const result = await boot({ name: `lab-${name}`, disk, append: `${FIRST_BOOT} ${lab.cmdline} ${append}`.trim(), ...lab.bootOptions() });
    return { disk, result };
  }

  it("metal: fetches ignition.config.url by host name (DHCP, then DNS from the lease)", async () => {
    const config = writeConfig(dir, "metal.ign", userConfig("metal by name"));
    const { disk, result } = await labBoot("metal", { platform: "metal", userdata: config });
    assertBooted(result);
    assert.equal(lab!.cmdline.includes(CONFIG_URL), true);
    assertRequested(/ GET \/boot\.ign 200$/);
    assert.match(lab!.dnsLog(), /query\[A\] config\.example\.test/);
    await inspectDisk(disk, ({ root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), "metal by name\n");
    });
  });

  it("aws: found by DMI alone, IMDSv2 only: user data applied, key for core, hostname set", async () => {
    const userdata = writeConfig(dir, "aws.ign", userConfig("aws user data"));
    const { disk, result } = await labBoot("aws", { platform: "aws", userdata, sshKey: KEY, hostname: "flint-lab-aws", scenario: "imdsv2-only" });
    assertBooted(result);
    assert.match(result.console, /detected platform aws/);
    assertRequested(/ PUT \/latest\/api\/token 200$/);
    await inspectDisk(disk, ({ root }) => assertProvisioned(root, "aws user data", "flint-lab-aws"));
  });

  it("gcp: user data, keys and hostname from metadata.google.internal's service", async () => {
    const userdata = writeConfig(dir, "gcp.ign", userConfig("gcp user data"));
    const { disk, result } = await labBoot("gcp", { platform: "gcp", userdata, sshKey: KEY, hostname: "flint-lab-gcp" });
    assertBooted(result);
    assertRequested(/ GET \/computeMetadata\/v1\/instance\/attributes\/user-data 200$/);
    await inspectDisk(disk, ({ root }) => assertProvisioned(root, "gcp user data", "flint-lab-gcp.c.flint-lab.internal"));
  });

  it("azure: IMDS answers 404 twice while provisioning, then the user data; Ready reported to the WireServer", async () => {
    const userdata = writeConfig(dir, "azure.ign", userConfig("azure user data"));
    const { disk, result } = await labBoot("azure-404", { platform: "azure", userdata, sshKey: KEY, hostname: "flint-lab-azure", scenario: "imds-404-twice" });
    assertBooted(result);
    const statuses = lab!.requests().map((r) => r.split(" ").pop());
    assert.deepEqual(statuses.slice(0, 2), ["404", "404"], `IMDS requests: ${lab!.requests().join("; ")}`);
    assert.equal(statuses.includes("200"), true);
    // The fake WireServer accepts only a report with the goal state's ids and the agent headers.
    assert.deepEqual(lab!.events(), ["168.63.129.16 HEALTH Ready"], lab!.requests().join("; "));
    // At switch-root emergency.target's wants are started once (initrd-cleanup's OnFailure); the failure report must stay out.
    assert.doesNotMatch(result.console, /Starting flint-checkin-failed|flint checkin --failed/);
    assertRequested(/^168\.63\.129\.16 POST \/machine\/\?comp=health 200$/);
    await inspectDisk(disk, ({ root }) => assertProvisioned(root, "azure user data", "flint-lab-azure"));
  });

  it("azure: a failing config: NotReady with the failure's reason reported, no switch-root", async () => {
    // A relative path: the fetch stage refuses the config.
    const userdata = writeConfig(dir, "azure-bad.ign", { ignition: { version: "3.3.0" }, storage: { files: [{ path: "etc/relative" }] } });
    const { result } = await labBoot("azure-failed", { platform: "azure", userdata, hostname: "flint-lab-azure" });
    assert.equal(result.timedOut, false, `the boot hit its time limit; console: ${result.logFile}`);
    assert.equal(result.console.includes(SWITCHED_ROOT), false);
    assert.match(result.console, /Flint failed in stage: fetch/);
    const reports = lab!.events();
    assert.equal(reports.length, 1, reports.join("; "));
    assert.match(reports[0]!, /^168\.63\.129\.16 HEALTH NotReady ProvisioningFailed: Flint failed in stage fetch: .*storage\.files\.0\.path/);
  });

  it("static ip= on the command line and no DHCP server: the address is used, not DHCP", async () => {
    const config = writeConfig(dir, "static.ign", userConfig("static address"));
    const url = `http://${LAB_ADDRESS}:${CONFIG_PORT}/boot.ign`;
    const { disk, result } = await labBoot("static-ip", { platform: "metal", userdata: config, dhcp: false }, `net.ifnames=0 ip=${STATIC_ADDRESS}::${LAB_ADDRESS}:255.255.255.0:flint-static:eth0:none ignition.config.url=${url}`);
    assertBooted(result);
    assert.doesNotMatch(lab!.dnsLog(), /DHCPACK/);
    assertRequested(/ GET \/boot\.ign 200$/);
    assert.ok(lab!.events().includes(`${LAB_ADDRESS} CLIENT ${STATIC_ADDRESS}`), lab!.events().join("; "));
    await inspectDisk(disk, ({ root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), "static address\n");
    });
  });

  it("azure: the config only on the OVF provisioning CD-ROM", async () => {
    const userdata = writeConfig(dir, "azure-ovf.ign", userConfig("azure custom data"));
    const { disk, result } = await labBoot("azure-ovf", { platform: "azure", userdata, sshKey: KEY, hostname: "flint-lab-ovf", scenario: "ovf-only" });
    assertBooted(result);
    assert.equal(lab!.qemuArgs.some((a) => a.includes("media=cdrom")), true);
    await inspectDisk(disk, ({ root }) => assertProvisioned(root, "azure custom data", "flint-lab-ovf"));
  });

  it("openstack: a CONFIG-2 config drive and no metadata service", async () => {
    const userdata = writeConfig(dir, "openstack.ign", userConfig("openstack config drive"));
    const { disk, result } = await labBoot("openstack", { platform: "openstack", userdata, sshKey: KEY, hostname: "flint-lab-openstack", scenario: "drive-only" });
    assertBooted(result);
    assert.deepEqual(lab!.requests(), [], "nothing may answer at 169.254.169.254 in this scenario");
    await inspectDisk(disk, ({ root }) => assertProvisioned(root, "openstack config drive", "flint-lab-openstack.novalocal"));
  });

  it("digitalocean: no DHCP, the metadata service reached over IPv4 link-local", async () => {
    const userdata = writeConfig(dir, "digitalocean.ign", userConfig("droplet user data"));
    const { disk, result } = await labBoot("digitalocean", { platform: "digitalocean", userdata, sshKey: KEY, hostname: "flint-lab-droplet", dhcp: false });
    assertBooted(result);
    assert.doesNotMatch(lab!.dnsLog(), /DHCPACK/);
    assertRequested(/ GET \/metadata\/v1\/user-data 200$/);
    await inspectDisk(disk, ({ root }) => assertProvisioned(root, "droplet user data", "flint-lab-droplet"));
  });

  // The lab's S3 (test/lab/fakes/s3.ts) refuses anything not signed with the
  // instance role's credentials, so the merged file on the disk proves region
  // discovery, IMDS credentials and SigV4 together.
  it("aws: the user data merges an s3:// config in another region, read with the instance role", async () => {
    const object = "s3://flint-lab-west/configs/boot.ign";
    const userdata = writeConfig(dir, "aws-s3.ign", { ...userConfig("aws user data"), ignition: { version: "3.3.0", config: { merge: [{ source: object }] } } });
    const merged = writeConfig(dir, "from-s3.ign", {
      ignition: { version: "3.3.0" },
      storage: { files: [{ path: "/etc/flint-lab/from-s3", mode: 0o644, contents: { source: dataUrl("merged from s3\n") } }] },
    });
    const { disk, result } = await labBoot("aws-s3", { platform: "aws", userdata, scenario: "imdsv2-only", objects: { [object]: merged } });
    assertBooted(result);
    assertRequested(/^198\.51\.100\.3 HEAD \/ 301$/);
    assertRequested(/^198\.51\.100\.3 GET \/configs\/boot\.ign 200$/);
    assertRequested(/ GET \/latest\/meta-data\/iam\/security-credentials\/flint-lab-instance-role 200$/);
    assert.match(lab!.dnsLog(), /query\[A+\] flint-lab-west\.s3\.dualstack\.eu-west-1\.amazonaws\.com/);
    await inspectDisk(disk, ({ root }) => {
      assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), "aws user data\n");
      assert.equal(readFileSync(join(root, "etc/flint-lab/from-s3"), "utf8"), "merged from s3\n");
    });
  });

  function assertRequested(pattern: RegExp): void {
    assert.equal(lab!.requests().some((r) => pattern.test(r)), true, `no request matched ${String(pattern)}: ${lab!.requests().join("; ")}`);
  }

  /** The user config applied, the metadata key for core in its fragment, the hostname, and no refresh unit (the root has no Flint). */
  function assertProvisioned(root: string, marker: string, hostname: string): void {
    assert.equal(readFileSync(join(root, "etc/flint-lab/marker"), "utf8"), `${marker}\n`);
    const home = join(root, "home/core/.ssh");
    assert.equal(readFileSync(join(home, "authorized_keys.d/flint-metadata"), "utf8"), `${KEY}\n`);
    assert.match(readFileSync(join(home, "authorized_keys"), "utf8"), new RegExp(`^${KEY.replace(/[.+]/g, "\\$&")}$`, "m"));
    assert.equal(readFileSync(join(root, "etc/hostname"), "utf8"), `${hostname}\n`);
    assert.equal(existsSync(join(root, "etc/systemd/system/multi-user.target.wants/flint-sshkeys@core.service")), false);
  }
});

