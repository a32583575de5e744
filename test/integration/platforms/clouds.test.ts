// The cloud lab without a VM: for every metadata platform, the fake cloud
// (test/lab/fakes/) serves at the real addresses inside a network namespace
// made for the test, and the built bundle runs `flint fetch` and
// `flint sshkeys` inside it at the real URLs, with their query strings.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ovfEnvironment } from "../../lab/fakes/azure";
import { driveFiles } from "../../lab/fakes/openstack";
import { startLab, type Lab, type LabOptions } from "../../lab/netns";
import { buildBundle } from "../../helpers/bundle";

const CONFIG = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-the-cloud", contents: { source: "data:,hello" } }] } });
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFlintLabInstanceKeyFlintLabInstanceKeyFli core@flint-lab";

interface Case extends LabOptions {
  platform: string;
  /** The hostname Flint must write to /etc/hostname. */
  expectHostname: string;
  /** Extra checks on the service's request log. */
  checkRequests?(requests: string[]): void;
}

const CASES: Case[] = [
  { platform: "aws", scenario: "imdsv2-optional", expectHostname: "ip-172-31-5-10.ec2.internal" },
  {
    platform: "aws",
    scenario: "imdsv2-only",
    expectHostname: "ip-172-31-5-10.ec2.internal",
    checkRequests: (requests) => {
      assert.ok(requests.some((r) => / PUT \/latest\/api\/token 200$/.test(r)), "a token was asked for");
      assert.deepEqual(requests.filter((r) => / 401$/.test(r)), [], "no request went without the token");
    },
  },
  {
    platform: "aws",
    scenario: "imdsv1-only",
    expectHostname: "ip-172-31-5-10.ec2.internal",
    checkRequests: (requests) => assert.ok(requests.some((r) => / PUT \/latest\/api\/token 404$/.test(r))),
  },
  { platform: "gcp", expectHostname: "flint-lab.c.flint-lab.internal" },
  { platform: "gcp", scenario: "legacy-keys", expectHostname: "flint-lab.c.flint-lab.internal" },
  // Over 64 characters: cut at the first dot.
  { platform: "gcp", scenario: "long-hostname", expectHostname: "flint-lab" },
  {
    platform: "azure",
    expectHostname: "flint-lab",
    checkRequests: (requests) => assert.ok(requests.some((r) => r.includes("GET /metadata/instance/compute/userData?api-version=2021-01-01&format=text 200"))),
  },
  ...["404", "410", "429"].map((status) => ({
    platform: "azure",
    scenario: `imds-${status}-twice`,
    expectHostname: "flint-lab",
    checkRequests: (requests: string[]) => assert.equal(requests.filter((r) => r.endsWith(` ${status}`)).length, 2),
  })),
  { platform: "azure", scenario: "crlf-keys", expectHostname: "flint-lab" },
  { platform: "digitalocean", expectHostname: "flint-lab" },
  { platform: "packet", expectHostname: "flint-lab" },
  { platform: "hetzner", expectHostname: "flint-lab" },
  { platform: "vultr", expectHostname: "flint-lab" },
  { platform: "openstack", expectHostname: "flint-lab.novalocal" },
  {
    platform: "openstack",
    scenario: "ipv6-only",
    expectHostname: "flint-lab.novalocal",
    checkRequests: (requests) => assert.ok(requests.some((r) => r.startsWith("fe80::a9fe:a9fe GET /openstack/latest/user_data 200"))),
  },
];

describe("platforms in the lab namespace at the real addresses (no VM)", function () {
  this.timeout(120_000);
  let lab: Lab | undefined;
  before(buildBundle);
  afterEach(async () => {
    await lab?.close();
    lab = undefined;
  });

  /** The machine's local view: an empty sysfs and lib dir, no OEM partition, an empty kernel command line. */
  const machine = (l: Lab, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    for (const d of ["sys", "lib", "oem", "run"]) mkdirSync(join(l.dir, d), { recursive: true });
    writeFileSync(join(l.dir, "cmdline"), "");
    return { FLINT_SYSFS_ROOT: join(l.dir, "sys"), FLINT_LIB_DIR: join(l.dir, "lib"), FLINT_OEM_DIR: join(l.dir, "oem"), NODE_EXTRA_CA_CERTS: l.caFile, ...extra };
  };
  const fetch = (l: Lab, command: string, platform: string, env: NodeJS.ProcessEnv) =>
    l.flint([command, "--platform", platform, "--cmdline-file", join(l.dir, "cmdline"), "--cache", join(l.dir, "run/config.json"), "--log-level", "debug"], env);
  const cached = (l: Lab) => JSON.parse(readFileSync(join(l.dir, "run/config.json"), "utf8"));
  const hostnameOf = (config: { storage?: { files?: { path: string; contents?: { source?: string } }[] } }) =>
    decodeURIComponent(config.storage?.files?.find((f) => f.path === "/etc/hostname")?.contents?.source?.replace(/^data:,/, "") ?? "").trim();
  const sshkeys = async (l: Lab, platform: string, env: NodeJS.ProcessEnv): Promise<string[]> => {
    const root = join(l.dir, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    mkdirSync(join(root, "home/core"), { recursive: true });
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/bash\ncore:x:500:500:Core:/home/core:/bin/bash\n");
    const result = await l.flint(["sshkeys", "--user", "core", "--platform", platform, "--root", root, "--cmdline-file", join(l.dir, "cmdline")], env);
    assert.equal(result.status, 0, result.stderr);
    return readFileSync(join(root, "home/core/.ssh/authorized_keys.d/flint-metadata"), "utf8").split("\n").filter(Boolean);
  };

  for (const c of CASES) {
    it(`${c.platform}${c.scenario ? ` (${c.scenario})` : ""}: config, hostname and SSH keys from the fake cloud`, async () => {
      lab = await startLab({ userdata: CONFIG, sshKey: KEY, ...c });
      const env = machine(lab);
      const offline = await fetch(lab, "fetch-offline", c.platform, env);
      assert.equal(offline.status, 0, offline.stderr);
      assert.equal(existsSync(join(lab.dir, "run/neednet")), true, "fetch-offline defers to fetch");
      assert.deepEqual(lab.requests, [], "fetch-offline touches no network");
      const online = await fetch(lab, "fetch", c.platform, env);
      assert.equal(online.status, 0, online.stderr);
      const config = cached(lab);
      assert.ok(config.storage.files.some((f: { path: string }) => f.path === "/etc/from-the-cloud"), JSON.stringify(config));
      assert.equal(hostnameOf(config), c.expectHostname);
      // The keys' user goes under the config; the keys themselves beside the cache, for the files stage.
      assert.deepEqual(config.passwd.users, [{ name: "core" }]);
      assert.deepEqual(JSON.parse(readFileSync(join(lab.dir, "run/platform-keys.json"), "utf8")), { user: "core", keys: [KEY] });
      assert.deepEqual(await sshkeys(lab, c.platform, env), [KEY]);
      c.checkRequests?.(lab.requests);
    });
  }

  it("gcp: the project's keys are left out when block-project-ssh-keys is true, added otherwise", async () => {
    lab = await startLab({ platform: "gcp", userdata: CONFIG, sshKey: KEY, scenario: "block-project-keys" });
    assert.deepEqual(await sshkeys(lab, "gcp", machine(lab)), [KEY]);
    assert.ok(lab.requests.some((r) => r.includes("block-project-ssh-keys 200")));
    assert.ok(!lab.requests.some((r) => r.includes("project/attributes")), "the project's keys are not asked for");
  });

  it("azure: the config from CustomData on the OVF media when IMDS has no user data; hostname and keys from IMDS", async () => {
    lab = await startLab({ platform: "azure", userdata: CONFIG, sshKey: KEY, scenario: "ovf-only" });
    const ovf = join(lab.dir, "ovf");
    mkdirSync(ovf);
    writeFileSync(join(ovf, "ovf-env.xml"), ovfEnvironment({ userdata: Buffer.from(CONFIG), sshKey: KEY }));
    writeFileSync(join(ovf, "CustomData.bin"), CONFIG);
    const env = machine(lab, { FLINT_AZURE_OVF_DIR: ovf });
    const result = await fetch(lab, "fetch", "azure", env);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(cached(lab).storage.files.some((f: { path: string }) => f.path === "/etc/from-the-cloud"));
    assert.equal(hostnameOf(cached(lab)), "flint-lab");
    assert.match(result.stderr, /no user data; looking for custom data/);
  });

  it("azure: CustomData in ovf-env.xml when the media has no CustomData.bin", async () => {
    lab = await startLab({ platform: "azure", userdata: CONFIG, scenario: "ovf-only" });
    const ovf = join(lab.dir, "ovf");
    mkdirSync(ovf);
    writeFileSync(join(ovf, "ovf-env.xml"), ovfEnvironment({ userdata: Buffer.from(CONFIG) }));
    const result = await fetch(lab, "fetch", "azure", machine(lab, { FLINT_AZURE_OVF_DIR: ovf }));
    assert.equal(result.status, 0, result.stderr);
    assert.ok(cached(lab).storage.files.some((f: { path: string }) => f.path === "/etc/from-the-cloud"));
  });

  it("openstack: the config drive alone (no metadata service): config, keys and hostname from the drive", async () => {
    lab = await startLab({ platform: "openstack", userdata: CONFIG, sshKey: KEY, scenario: "drive-only" });
    const drive = join(lab.dir, "drive");
    for (const [path, contents] of Object.entries(driveFiles({ userdata: Buffer.from(CONFIG), sshKey: KEY }))) {
      mkdirSync(join(drive, path, ".."), { recursive: true });
      writeFileSync(join(drive, path), contents);
    }
    const env = machine(lab, { FLINT_CONFIG_DRIVE_DIR: drive });
    const result = await fetch(lab, "fetch", "openstack", env);
    assert.equal(result.status, 0, result.stderr);
    assert.ok(cached(lab).storage.files.some((f: { path: string }) => f.path === "/etc/from-the-cloud"));
    assert.equal(hostnameOf(cached(lab)), "flint-lab.novalocal");
    assert.deepEqual(await sshkeys(lab, "openstack", env), [KEY]);
    assert.deepEqual(lab.requests, []);
  });

  it("packet: no user data (404) is an error, not an empty config", async () => {
    lab = await startLab({ platform: "packet", sshKey: KEY });
    const result = await fetch(lab, "fetch", "packet", machine(lab));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /metadata\.packet\.net\/userdata.*HTTP status 404/);
    assert.equal(existsSync(join(lab.dir, "run/config.json")), false);
  });

  it("aws: no user data (404) is no config; the machine still gets its hostname and key unit", async () => {
    lab = await startLab({ platform: "aws", sshKey: KEY, scenario: "imdsv2-only" });
    const result = await fetch(lab, "fetch", "aws", machine(lab));
    assert.equal(result.status, 0, result.stderr);
    assert.equal(hostnameOf(cached(lab)), "ip-172-31-5-10.ec2.internal");
  });

  it("a metadata service that is not there fails clearly once httpTotal runs out", async () => {
    lab = await startLab({});
    const env = machine(lab);
    mkdirSync(join(lab.dir, "lib/base.d"));
    writeFileSync(join(lab.dir, "lib/base.d/timeouts.ign"), JSON.stringify({ ignition: { version: "3.4.0", timeouts: { httpTotal: 2 } } }));
    const result = await fetch(lab, "fetch", "hetzner", env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /169\.254\.169\.254\/hetzner\/v1\/userdata.*gave up after \d+ tries/);
  });

  it("user.ign in the system config directory applies on a metadata platform; the hostname still comes from the service", async () => {
    lab = await startLab({ platform: "hetzner", userdata: '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"/etc/from-metadata"}]}}' });
    const env = machine(lab);
    writeFileSync(join(lab.dir, "lib/user.ign"), CONFIG);
    const result = await fetch(lab, "fetch", "hetzner", env);
    assert.equal(result.status, 0, result.stderr);
    const paths = cached(lab).storage.files.map((f: { path: string }) => f.path);
    assert.deepEqual(paths.sort(), ["/etc/from-the-cloud", "/etc/hostname"]);
    assert.ok(!lab.requests.some((r) => r.includes("/userdata")), "the platform's user data is not read");
  });

  it("the platform's hostname and key unit go under the user config, which wins", async () => {
    const user = { ignition: { version: "3.4.0" }, systemd: { units: [{ name: "flint-sshkeys@core.service", enabled: false }] } };
    lab = await startLab({ platform: "digitalocean", userdata: JSON.stringify(user), hostname: "droplet-7" });
    const result = await fetch(lab, "fetch", "digitalocean", machine(lab));
    assert.equal(result.status, 0, result.stderr);
    const config = cached(lab);
    assert.equal(config.storage.files[0].path, "/etc/hostname");
    assert.equal(config.storage.files[0].contents.source, "data:,droplet-7%0A");
    assert.deepEqual(config.systemd.units, [{ name: "flint-sshkeys@core.service", enabled: false }]);
  });
});
