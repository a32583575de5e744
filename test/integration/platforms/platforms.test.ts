import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlatformContext } from "../../../agent/platforms/context";
import { canonicalPlatformId, detectPlatform, loadPlatform } from "../../../agent/platforms/index";
import { platformPaths } from "../../../agent/platforms/paths";
import type { PlatformContext } from "../../../agent/platforms/types";
import { routes, startHttpServer, type TestServer } from "../../helpers/servers/http";

const CONFIG = '{"ignition":{"version":"3.4.0"}}';
const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKeyKe test@example";

/** Answers only when the request carries `header: value`, like the real services. */
function requiring(header: string, value: string, body: string) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers[header.toLowerCase()] !== value) {
      res.statusCode = 403;
      return res.end(`missing ${header}`);
    }
    res.end(body);
  };
}

interface Case {
  id: string;
  /** The fake metadata service's paths (relative to the endpoint). */
  service: Record<string, string | ((req: IncomingMessage, res: ServerResponse) => void)>;
  hostname?: string;
}

const NETWORK_PLATFORMS: Case[] = [
  {
    id: "aws",
    service: {
      "/latest/api/token": (req, res) => (req.method === "PUT" && req.headers["x-aws-ec2-metadata-token-ttl-seconds"] ? res.end("TOKEN") : ((res.statusCode = 405), res.end())),
      "/2009-04-04/user-data": requiring("X-aws-ec2-metadata-token", "TOKEN", CONFIG),
      "/2009-04-04/meta-data/public-keys/": requiring("X-aws-ec2-metadata-token", "TOKEN", "0=my-key\n"),
      "/2009-04-04/meta-data/public-keys/0/openssh-key": requiring("X-aws-ec2-metadata-token", "TOKEN", KEY + "\n"),
      "/2009-04-04/meta-data/hostname": requiring("X-aws-ec2-metadata-token", "TOKEN", "ip-10-0-0-1.ec2.internal"),
    },
    hostname: "ip-10-0-0-1.ec2.internal",
  },
  {
    id: "gcp",
    service: {
      "/instance/attributes/user-data": requiring("Metadata-Flavor", "Google", CONFIG),
      "/instance/attributes/ssh-keys": requiring("Metadata-Flavor", "Google", `core:${KEY}\n`),
      "/project/attributes/ssh-keys": requiring("Metadata-Flavor", "Google", `core:${KEY.replace("test@", "project@")}\n`),
      "/instance/hostname": requiring("Metadata-Flavor", "Google", "vm-1.c.project.internal"),
    },
    hostname: "vm-1.c.project.internal",
  },
  {
    id: "digitalocean",
    service: { "/metadata/v1/user-data": CONFIG, "/metadata/v1.json": JSON.stringify({ public_keys: [KEY] }), "/metadata/v1/hostname": "droplet-1" },
    hostname: "droplet-1",
  },
  {
    id: "openstack",
    service: { "/user_data": CONFIG, "/meta_data.json": JSON.stringify({ public_keys: { mykey: KEY }, hostname: "os-vm" }) },
    hostname: "os-vm",
  },
  {
    id: "packet",
    service: { "/userdata": CONFIG, "/metadata": JSON.stringify({ ssh_keys: [KEY], hostname: "metal-1" }) },
    hostname: "metal-1",
  },
  {
    id: "hetzner",
    service: { "/userdata": CONFIG, "/metadata/public-keys": JSON.stringify([KEY]), "/metadata/hostname": "hcloud-1" },
    hostname: "hcloud-1",
  },
  {
    id: "vultr",
    service: { "/user-data/user-data": CONFIG, "/v1.json": JSON.stringify({ "public-keys": [KEY], hostname: "vultr-1" }) },
    hostname: "vultr-1",
  },
  {
    id: "azure",
    service: {
      "/userData": requiring("Metadata", "true", Buffer.from(CONFIG).toString("base64")),
      "/publicKeys": requiring("Metadata", "true", JSON.stringify([{ keyData: KEY, path: "/home/core/.ssh/authorized_keys" }])),
      "/osProfile/computerName": requiring("Metadata", "true", "azure-vm"),
    },
    hostname: "azure-vm",
  },
];

describe("platforms against fake metadata services on 127.0.0.1", () => {
  let dir: string;
  const servers: TestServer[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-platform-"));
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A context whose endpoint (FLINT_<ID>_ENDPOINT) and local paths point into the test's world. */
  const contextFor = (id: string, endpoint: string | undefined, extraEnv: NodeJS.ProcessEnv = {}, httpTotal = 0): PlatformContext => {
    const env: NodeJS.ProcessEnv = {
      FLINT_SYSFS_ROOT: join(dir, "sys"),
      FLINT_LIB_DIR: join(dir, "lib"),
      FLINT_OEM_DIR: join(dir, "oem"),
      FLINT_CONFIG_DRIVE_DIR: join(dir, "config-drive"),
      FLINT_AZURE_OVF_DIR: join(dir, "ovf"),
      ...extraEnv,
    };
    if (endpoint) env[`FLINT_${id.toUpperCase()}_ENDPOINT`] = endpoint;
    return createPlatformContext(id, { env, paths: platformPaths(env), settings: httpTotal ? { timeouts: { httpTotal } } : {} });
  };

  for (const c of NETWORK_PLATFORMS) {
    describe(c.id, () => {
      it("reads the user config, SSH keys and hostname from the metadata service", async () => {
        const server = await startHttpServer(routes(c.service));
        servers.push(server);
        const platform = await loadPlatform(c.id);
        const ctx = contextFor(c.id, server.url);
        assert.equal(platform.needsNetwork, true);
        assert.equal((await platform.fetchConfig(ctx))?.toString(), CONFIG);
        const keys = await platform.sshKeys!(ctx);
        assert.ok(keys.includes(KEY), `keys: ${JSON.stringify(keys)}`);
        assert.equal(await platform.hostname!(ctx), c.hostname);
      });

      it("has no config when the service answers 404", async () => {
        const server = await startHttpServer(routes({}));
        servers.push(server);
        const platform = await loadPlatform(c.id);
        assert.equal(await platform.fetchConfig(contextFor(c.id, server.url)), undefined);
        assert.deepEqual(await platform.sshKeys!(contextFor(c.id, server.url)), []);
      });

      it("fails clearly when the service is not there (after retrying until httpTotal)", async () => {
        const server = await startHttpServer(routes({}));
        await server.close();
        const platform = await loadPlatform(c.id);
        await assert.rejects(platform.fetchConfig(contextFor(c.id, server.url, {}, 1)), /gave up after \d+ tries.*ECONNREFUSED/);
      });
    });
  }

  describe("openstack config drive", () => {
    it("prefers the config-2 drive to the metadata service, needing no network", async () => {
      mkdirSync(join(dir, "config-drive/openstack/latest"), { recursive: true });
      writeFileSync(join(dir, "config-drive/openstack/latest/user_data"), CONFIG);
      writeFileSync(join(dir, "config-drive/openstack/latest/meta_data.json"), JSON.stringify({ public_keys: { k: KEY }, hostname: "from-drive" }));
      const platform = await loadPlatform("openstack");
      const ctx = contextFor("openstack", "http://127.0.0.1:9"); // nothing listens there
      assert.equal((await platform.fetchConfig(ctx))?.toString(), CONFIG);
      assert.deepEqual(await platform.sshKeys!(ctx), [KEY]);
      assert.equal(await platform.hostname!(ctx), "from-drive");
    });
  });

  describe("azure OVF fallback", () => {
    it("reads CustomData from ovf-env.xml when IMDS is not there", async () => {
      mkdirSync(join(dir, "ovf"));
      writeFileSync(join(dir, "ovf/ovf-env.xml"), `<?xml version="1.0"?><Environment><ns1:ProvisioningSection><ns1:CustomData>${Buffer.from(CONFIG).toString("base64")}</ns1:CustomData></ns1:ProvisioningSection></Environment>`);
      const server = await startHttpServer(routes({}));
      await server.close();
      const platform = await loadPlatform("azure");
      assert.equal((await platform.fetchConfig(contextFor("azure", server.url, {}, 1)))?.toString(), CONFIG);
    });
  });

  describe("qemu", () => {
    it("reads the fw_cfg blob opt/org.flatcar-linux/config, then opt/com.coreos/config", async () => {
      const platform = await loadPlatform("qemu");
      assert.equal(platform.needsNetwork, false);
      mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config"), { recursive: true });
      writeFileSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config/raw"), "legacy");
      assert.equal((await platform.fetchConfig(contextFor("qemu", undefined)))?.toString(), "legacy");
      mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config"), { recursive: true });
      writeFileSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config/raw"), CONFIG);
      assert.equal((await platform.fetchConfig(contextFor("qemu", undefined)))?.toString(), CONFIG);
    });

    it("has no config when fw_cfg carries none", async () => {
      mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name"), { recursive: true });
      assert.equal(await (await loadPlatform("qemu")).fetchConfig(contextFor("qemu", undefined)), undefined);
    });
  });

  describe("file", () => {
    it("reads <lib>/user.ign first, then config.ign on the OEM partition", async () => {
      const platform = await loadPlatform("file");
      mkdirSync(join(dir, "oem"));
      writeFileSync(join(dir, "oem/config.ign"), "from-oem");
      assert.equal((await platform.fetchConfig(contextFor("file", undefined)))?.toString(), "from-oem");
      mkdirSync(join(dir, "lib"));
      writeFileSync(join(dir, "lib/user.ign"), CONFIG);
      assert.equal((await platform.fetchConfig(contextFor("file", undefined)))?.toString(), CONFIG);
    });

    it("has no config when neither file exists", async () => {
      assert.equal(await (await loadPlatform("file")).fetchConfig(contextFor("file", undefined)), undefined);
    });
  });

  describe("metal", () => {
    it("contributes no config of its own (only ignition.config.url counts)", async () => {
      assert.equal(await (await loadPlatform("pxe")).fetchConfig(contextFor("metal", undefined)), undefined);
    });
  });

  describe("vmware", () => {
    // vmware-rpctool does not run outside a VMware guest; a script answering like it stands in for it.
    const fakeTool = (values: Record<string, string>) => {
      const bin = join(dir, "bin");
      mkdirSync(bin, { recursive: true });
      const cases = Object.entries(values).map(([k, v]) => `  "info-get ${k}") printf '%s\\n' '${v}' ;;`).join("\n");
      writeFileSync(join(bin, "vmware-rpctool"), `#!/bin/sh\ncase "$1" in\n${cases}\n  *) echo "No value found" >&2; exit 1 ;;\nesac\n`);
      chmodSync(join(bin, "vmware-rpctool"), 0o755);
      return bin;
    };
    let savedPath: string | undefined;
    beforeEach(() => (savedPath = process.env.PATH));
    afterEach(() => (process.env.PATH = savedPath));

    it("reads guestinfo.ignition.config.data, decoding base64", async () => {
      process.env.PATH = `${fakeTool({ "guestinfo.ignition.config.data": Buffer.from(CONFIG).toString("base64"), "guestinfo.ignition.config.data.encoding": "base64" })}:${savedPath}`;
      assert.equal((await (await loadPlatform("vmware")).fetchConfig(contextFor("vmware", undefined)))?.toString(), CONFIG);
    });

    it("has no config when guestinfo has none", async () => {
      process.env.PATH = `${fakeTool({})}:${savedPath}`;
      assert.equal(await (await loadPlatform("vmware")).fetchConfig(contextFor("vmware", undefined)), undefined);
    });

    it("says clearly that vmware-rpctool is missing", async () => {
      process.env.PATH = join(dir, "empty-bin");
      await assert.rejects((await loadPlatform("vmware")).fetchConfig(contextFor("vmware", undefined)), /vmware-rpctool is not installed/);
    });
  });

  describe("platform ids", () => {
    it("accepts aliases and rejects an unknown id listing the known ones", () => {
      assert.equal(canonicalPlatformId("ec2"), "aws");
      assert.equal(canonicalPlatformId("GCE"), "gcp");
      assert.equal(canonicalPlatformId("equinix"), "packet");
      assert.throws(() => canonicalPlatformId("nimbus"), /unknown platform "nimbus"; known platforms: qemu, file, metal, aws, gcp, digitalocean, openstack, packet, hetzner, vultr, azure, vmware/);
    });
  });

  describe("DMI detection", () => {
    const dmi = (fields: Record<string, string>) => {
      const base = join(dir, "sys-" + Object.values(fields).join("-").replace(/\W/g, ""));
      mkdirSync(join(base, "class/dmi/id"), { recursive: true });
      for (const [k, v] of Object.entries(fields)) writeFileSync(join(base, "class/dmi/id", k), v + "\n");
      return base;
    };

    it("recognises QEMU, the clouds (before the KVM they run on), and falls back to metal", async () => {
      assert.equal(await detectPlatform(dmi({ sys_vendor: "QEMU", product_name: "Standard PC (Q35 + ICH9, 2009)" })), "qemu");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Amazon EC2", product_name: "m5.large" })), "aws");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Google", product_name: "Google Compute Engine" })), "gcp");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Microsoft Corporation", product_name: "Virtual Machine", chassis_asset_tag: "7783-7084-3265-9085-8269-3286-77" })), "azure");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "DigitalOcean", product_name: "Droplet" })), "digitalocean");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "OpenStack Foundation", product_name: "OpenStack Nova" })), "openstack");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Hetzner", product_name: "vServer" })), "hetzner");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Vultr", product_name: "VC2" })), "vultr");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Dell Inc.", product_name: "PowerEdge R640" })), "metal");
      assert.equal(await detectPlatform(join(dir, "no-sysfs")), "metal");
    });
  });
});
