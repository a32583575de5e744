// Every platform id beyond the nine metadata clouds of clouds.test.ts, each
// read from its real source: the metadata services at their real addresses
// inside a lab namespace (test/lab/fakes/user-data-clouds.ts); the drives as
// real filesystem images with the cloud's label on loop devices, found by
// label (ext4: this host mounts nothing else; Flint probes the type, and the
// lab boots read iso9660 and vfat drives in QEMU); Hyper-V's KVP pool in its binary format; and the
// hypervisor tools (vmware-rpctool, VBoxControl, vmur) as scripts that keep
// their properties in files, as the real tools keep them in the hypervisor.
// The built bundle runs `flint fetch-offline`/`fetch` as at boot.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { driveFiles } from "../../lab/fakes/openstack";
import { CLOUDSTACK_ROUTER } from "../../lab/fakes/user-data-clouds";
import { installTool, VBOXCONTROL, VMUR } from "../../lab/fake-tools";
import { startLab, type Lab } from "../../lab/netns";
import { buildBundle, FLINT } from "../../helpers/bundle";
import { KVP_KEY_SIZE, KVP_VALUE_SIZE } from "../../../agent/platforms/hyperv";

const CONFIG = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-the-cloud", contents: { source: "data:,hello" } }] } });
const quiet = { stdio: ["ignore", "ignore", "pipe"] as ["ignore", "ignore", "pipe"], env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } };

type Result = { status: number | null; stdout: string; stderr: string };

/** A scratch machine: an empty sysfs, lib and OEM dir, a by-label dir, an empty command line. */
function machine(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  for (const d of ["sys", "lib", "oem", "run", "by-label", "bin", "leases"]) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, "cmdline"), "");
  return {
    FLINT_SYSFS_ROOT: join(dir, "sys"),
    FLINT_LIB_DIR: join(dir, "lib"),
    FLINT_OEM_DIR: join(dir, "oem"),
    FLINT_DISK_BY_LABEL_DIR: join(dir, "by-label"),
    FLINT_NETIF_LEASES_DIR: join(dir, "leases"),
    PATH: `${join(dir, "bin")}:${process.env.PATH}`,
    ...extra,
  };
}

const args = (dir: string, command: string, platform: string) => [command, "--platform", platform, "--cmdline-file", join(dir, "cmdline"), "--cache", join(dir, "run/config.json"), "--log-level", "debug"];

function runFlint(argv: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FLINT, ...argv], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const cachedPaths = (dir: string): string[] => (JSON.parse(readFileSync(join(dir, "run/config.json"), "utf8")).storage?.files ?? []).map((f: { path: string }) => f.path);

function assertApplied(dir: string, result: Result): void {
  assert.equal(result.status, 0, result.stderr);
  // OpenStack's drive also names a hostname, which goes under the config.
  assert.deepEqual(cachedPaths(dir).filter((p) => p !== "/etc/hostname"), ["/etc/from-the-cloud"], result.stderr);
}

describe("every platform id, from its real source", function () {
  this.timeout(120_000);
  before(buildBundle);

  describe("metadata services at their real addresses (lab namespace)", () => {
    let lab: Lab | undefined;
    afterEach(async () => {
      await lab?.close();
      lab = undefined;
    });

    const cases: { platform: string; scenario?: string; check?(requests: string[]): void }[] = [
      { platform: "akamai", check: (r) => assert.ok(r.some((l) => / PUT \/v1\/token 200$/.test(l)) && !r.some((l) => / 40\d$/.test(l)), r.join("\n")) },
      { platform: "akamai", scenario: "gzip" },
      { platform: "aliyun", check: (r) => assert.ok(r.some((l) => l.startsWith("100.100.100.200 GET /latest/user-data 200")), r.join("\n")) },
      { platform: "exoscale" },
      { platform: "oraclecloud", scenario: "busy-twice", check: (r) => assert.equal(r.filter((l) => l.endsWith(" 429")).length, 2) },
      { platform: "scaleway", check: (r) => assert.ok(r.some((l) => l.startsWith("169.254.42.42 GET /user_data/cloud-init 200")), r.join("\n")) },
      { platform: "upcloud" },
    ];
    for (const c of cases) {
      it(`${c.platform}${c.scenario ? ` (${c.scenario})` : ""}: fetch-offline defers, fetch reads the user data`, async () => {
        lab = await startLab({ platform: c.platform, userdata: CONFIG, scenario: c.scenario });
        const env = machine(lab.dir);
        const offline = await lab.flint(args(lab.dir, "fetch-offline", c.platform), env);
        assert.equal(offline.status, 0, offline.stderr);
        assert.equal(existsSync(join(lab.dir, "run/neednet")), true);
        assertApplied(lab.dir, await lab.flint(args(lab.dir, "fetch", c.platform), env));
        c.check?.(lab.requests);
      });
    }

    for (const platform of ["aliyun", "exoscale", "oraclecloud", "scaleway", "upcloud"]) {
      it(`${platform}: no user data (404) is no config`, async () => {
        lab = await startLab({ platform });
        const result = await lab.flint(args(lab.dir, "fetch", platform), machine(lab.dir));
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(cachedPaths(lab.dir), []);
      });
    }

    it("akamai: no user data is an error, as in Ignition", async () => {
      lab = await startLab({ platform: "akamai" });
      const result = await lab.flint(args(lab.dir, "fetch", "akamai"), machine(lab.dir));
      assert.equal(result.status, 1);
      assert.match(result.stderr, /v1\/user-data.*404/);
    });

    it("cloudstack: the metadata service on the DHCP server named by networkd's lease", async () => {
      lab = await startLab({ platform: "cloudstack", userdata: CONFIG });
      const env = machine(lab.dir);
      writeFileSync(join(lab.dir, "leases/2"), `# This is private data. Do not parse.\nADDRESS=10.1.1.23\nNETMASK=255.255.255.0\nSERVER_ADDRESS=${CLOUDSTACK_ROUTER}\nROUTER=${CLOUDSTACK_ROUTER}\n`);
      assertApplied(lab.dir, await lab.flint(args(lab.dir, "fetch", "cloudstack"), env));
      assert.ok(lab.requests.some((l) => l.startsWith(`${CLOUDSTACK_ROUTER} GET /latest/user-data 200`)), lab.requests.join("\n"));
    });
  });

  describe("drives with the cloud's label, on loop devices", () => {
    let dir: string;
    const loops: string[] = [];
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "flint-every-platform-"));
    });
    afterEach(() => {
      for (const loop of loops.splice(0)) execFileSync("losetup", ["-d", loop], { stdio: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    });

    /** Builds a filesystem image labelled `label` holding `files`, attaches it read-only and links it as /dev/disk/by-label/LABEL would. */
    function drive(label: string, files: Record<string, string | Buffer>, linkAs = label): void {
      const content = join(dir, `content-${label}`);
      for (const [path, contents] of Object.entries(files)) {
        mkdirSync(dirname(join(content, path)), { recursive: true });
        writeFileSync(join(content, path), contents);
      }
      const image = join(dir, `${label}.img`);
      execFileSync("truncate", ["-s", "16M", image]);
      execFileSync("mkfs.ext4", ["-q", "-L", label, "-d", content, image], quiet);
      const loop = execFileSync("losetup", ["-f", "--show", "-r", image], { encoding: "utf8" }).trim();
      loops.push(loop);
      symlinkSync(loop, join(dir, "by-label", linkAs));
    }

    const openstackDrive = () => driveFiles({ userdata: Buffer.from(CONFIG) });

    for (const platform of ["nutanix", "powervs"]) {
      it(`${platform}: the config drive (config-2)`, async () => {
        const env = machine(dir);
        drive("config-2", openstackDrive());
        assertApplied(dir, await runFlint(args(dir, "fetch-offline", platform), env));
      });
    }

    // OpenStack's provider races the drive with the metadata service: run where nothing answers at 169.254.169.254.
    for (const platform of ["brightbox", "stackit"]) {
      it(`${platform} (OpenStack): the config drive (config-2), in a namespace where no metadata service answers`, async () => {
        const lab = await startLab({});
        try {
          const env = machine(dir);
          drive("config-2", openstackDrive());
          assertApplied(dir, await lab.flint(args(dir, "fetch", platform), env));
        } finally {
          await lab.close();
        }
      });
    }

    it("kubevirt: a NoCloud drive (CIDATA)", async () => {
      const env = machine(dir);
      drive("CIDATA", { "user-data": CONFIG, "meta-data": "instance-id: flint-lab\n" });
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "kubevirt"), env));
    });

    it("kubevirt: a config drive (CONFIG-2) when there is no NoCloud drive", async () => {
      const env = machine(dir);
      drive("CONFIG-2", openstackDrive());
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "kubevirt"), env));
    });

    it("ibmcloud: the NoCloud drive (cidata)", async () => {
      const env = machine(dir);
      drive("cidata", { "user-data": CONFIG, "meta-data": "instance-id: flint-lab\n" });
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "ibmcloud"), env));
    });

    it("proxmoxve: a cloud-config in user-data is passed over for the config in vendor-data", async () => {
      const env = machine(dir);
      drive("cidata", { "user-data": "#cloud-config\nhostname: pve\n", "vendor-data": CONFIG, "meta-data": "instance-id: flint-lab\n" });
      const result = await runFlint(args(dir, "fetch-offline", "proxmoxve"), env);
      assertApplied(dir, result);
      assert.match(result.stderr, /passing over user-data.*cloud-config/);
    });

    it("cloudstack: the config drive's cloudstack/userdata/user_data.txt, with no metadata service (no lease)", async () => {
      const lab = await startLab({});
      try {
        const env = machine(dir);
        drive("config-2", { "cloudstack/userdata/user_data.txt": CONFIG });
        assertApplied(dir, await lab.flint(args(dir, "fetch", "cloudstack"), env));
      } finally {
        await lab.close();
      }
    });

    it("ionoscloud: the NoCloud seed on the ROOT filesystem", async () => {
      const env = machine(dir);
      drive("ROOT", { "var/lib/cloud/seed/nocloud/user-data": CONFIG });
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "ionoscloud"), env));
    });

    it("azurestack: the OVF provisioning CD-ROM's CustomData.bin, no IMDS", async () => {
      const ovf = join(dir, "ovf");
      mkdirSync(ovf, { recursive: true });
      writeFileSync(join(ovf, "ovf-env.xml"), "<Environment/>");
      writeFileSync(join(ovf, "CustomData.bin"), CONFIG);
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "azurestack"), machine(dir, { FLINT_AZURE_OVF_DIR: ovf })));
    });
  });

  describe("hypervisor channels", () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "flint-every-platform-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    /** A KVP pool file as hv_kvp_daemon writes it: 512-byte keys, 2048-byte values, NUL-padded. */
    function kvpPool(pairs: [string, string][]): Buffer {
      return Buffer.concat(pairs.map(([key, value]) => {
        const record = Buffer.alloc(KVP_KEY_SIZE + KVP_VALUE_SIZE);
        record.write(key, 0, "utf8");
        record.write(value, KVP_KEY_SIZE, "utf8");
        return record;
      }));
    }

    it("hyperv: the config split over ignition.config.0, .1, … in the external pool", async () => {
      const env = machine(dir, { FLINT_KVP_POOL_DIR: join(dir, "kvp") });
      mkdirSync(join(dir, "kvp"));
      const half = Math.floor(CONFIG.length / 2);
      writeFileSync(join(dir, "kvp/.kvp_pool_0"), kvpPool([["VirtualMachineName", "flint"], ["ignition.config.1", CONFIG.slice(half)], ["ignition.config.0", CONFIG.slice(0, half)]]));
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "hyperv"), env));
    });

    it("hyperv: the single ignition.config key; no pool file is no config", async () => {
      const env = machine(dir, { FLINT_KVP_POOL_DIR: join(dir, "kvp") });
      const none = await runFlint(args(dir, "fetch-offline", "hyperv"), env);
      assert.equal(none.status, 0, none.stderr);
      assert.deepEqual(cachedPaths(dir), []);
      rmSync(join(dir, "run/config.json"));
      mkdirSync(join(dir, "kvp"));
      writeFileSync(join(dir, "kvp/.kvp_pool_0"), kvpPool([["ignition.config", CONFIG]]));
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "hyperv"), env));
    });

    it("virtualbox: the /Ignition/Config guest property", async () => {
      const env = machine(dir);
      installTool(dir, "VBoxControl", VBOXCONTROL);
      writeFileSync(join(dir, "state/_Ignition_Config"), CONFIG);
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "virtualbox"), env));
    });

    it("virtualbox: an encoding is refused", async () => {
      const env = machine(dir);
      installTool(dir, "VBoxControl", VBOXCONTROL);
      writeFileSync(join(dir, "state/_Ignition_Config"), CONFIG);
      writeFileSync(join(dir, "state/_Ignition_Config_Encoding"), "gzip+base64");
      const result = await runFlint(args(dir, "fetch-offline", "virtualbox"), env);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /Encoding.*unsupported encoding "gzip\+base64"/);
    });

    it("zvm: the first spool file of type ign in the reader", async () => {
      const env = machine(dir);
      installTool(dir, "modprobe", "exit 0");
      installTool(dir, "chccwdev", '[ "$*" = "-e 000c" ] || exit 1; : >"$STATE/online"');
      installTool(dir, "cio_ignore", "exit 0");
      installTool(dir, "udevadm", "exit 0");
      installTool(dir, "vmur", VMUR);
      writeFileSync(join(dir, "state/0017"), Buffer.concat([Buffer.from(CONFIG), Buffer.alloc(80 - (CONFIG.length % 80))]));
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "zvm"), env));
      assert.equal(existsSync(join(dir, "state/online")), true);
    });

    it("nvidiabluefield: the boot FIFO", async () => {
      const env = machine(dir);
      installTool(dir, "modprobe", '[ "$*" = "-- mlxbf_bootctl" ] || exit 1');
      mkdirSync(join(dir, "sys/bus/platform/devices/MLNXBF04:00"), { recursive: true });
      writeFileSync(join(dir, "sys/bus/platform/devices/MLNXBF04:00/bootfifo"), Buffer.concat([Buffer.from(CONFIG), Buffer.alloc(7)]));
      assertApplied(dir, await runFlint(args(dir, "fetch-offline", "nvidiabluefield"), env));
    });

    it("applehv: fails saying vsock is out of reach, instead of booting without the config", async () => {
      const result = await runFlint(args(dir, "fetch-offline", "applehv"), machine(dir));
      assert.equal(result.status, 1);
      assert.match(result.stderr, /vsock/);
    });

    for (const platform of ["cloudsigma", "rackspace", "rackspace-onmetal", "niftycloud", "interoute", "vagrant", "xendom0"]) {
      it(`${platform}: known, with no user config source (as in Ignition)`, async () => {
        const result = await runFlint(args(dir, "fetch-offline", platform), machine(dir));
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(cachedPaths(dir), []);
      });
    }

    it("kubevirt: a drive found but unreadable is an error, not a wait for the other kind", async () => {
      const env = machine(dir);
      writeFileSync(join(dir, "not-a-filesystem"), Buffer.alloc(4096));
      symlinkSync(join(dir, "not-a-filesystem"), join(dir, "by-label/cidata"));
      const result = await runFlint(args(dir, "fetch-offline", "kubevirt"), env);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /mount/);
    });

    it("an unknown id still fails, naming the known ones", async () => {
      const result = await runFlint(args(dir, "fetch-offline", "nosuchcloud"), machine(dir));
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /unknown platform "nosuchcloud"; known platforms: .*akamai.*proxmoxve.*zvm/);
    });
  });
});
