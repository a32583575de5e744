import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createPlatformContext } from "../../../agent/platforms/context";
import { canonicalPlatformId, detectPlatform, loadPlatform } from "../../../agent/platforms/index";
import { cdromDevices } from "../../../agent/platforms/media";
import { platformPaths } from "../../../agent/platforms/paths";
import type { PlatformContext } from "../../../agent/platforms/types";

const CONFIG = '{"ignition":{"version":"3.4.0"}}';

// The metadata platforms are tested at their real addresses in the lab namespace: clouds.test.ts.
describe("local platforms (fw_cfg, files, guestinfo) and DMI detection", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-platform-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** A context whose local paths point into the test's world. */
  const contextFor = (): PlatformContext => {
    const env: NodeJS.ProcessEnv = { FLINT_SYSFS_ROOT: join(dir, "sys"), FLINT_LIB_DIR: join(dir, "lib"), FLINT_OEM_DIR: join(dir, "oem") };
    return createPlatformContext({ env, paths: platformPaths(env) });
  };

  describe("qemu", () => {
    it("reads the fw_cfg blob opt/org.flatcar-linux/config, then opt/com.coreos/config", async () => {
      const platform = await loadPlatform("qemu");
      assert.equal(platform.needsNetwork, false);
      mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config"), { recursive: true });
      writeFileSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/com.coreos/config/raw"), "legacy");
      assert.equal((await platform.fetchConfig(contextFor()))?.toString(), "legacy");
      mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config"), { recursive: true });
      writeFileSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config/raw"), CONFIG);
      assert.equal((await platform.fetchConfig(contextFor()))?.toString(), CONFIG);
    });

    it("has no config when fw_cfg carries none", async () => {
      mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name"), { recursive: true });
      assert.equal(await (await loadPlatform("qemu")).fetchConfig(contextFor()), undefined);
    });
  });

  describe("file", () => {
    it("reads config.ign on the OEM partition", async () => {
      const platform = await loadPlatform("file");
      mkdirSync(join(dir, "oem"));
      writeFileSync(join(dir, "oem/config.ign"), CONFIG);
      assert.equal((await platform.fetchConfig(contextFor()))?.toString(), CONFIG);
    });

    it("has no config when there is no config.ign", async () => {
      assert.equal(await (await loadPlatform("file")).fetchConfig(contextFor()), undefined);
    });
  });

  describe("metal", () => {
    it("contributes no config of its own (only ignition.config.url counts)", async () => {
      assert.equal(await (await loadPlatform("pxe")).fetchConfig(contextFor()), undefined);
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
      assert.equal((await (await loadPlatform("vmware")).fetchConfig(contextFor()))?.toString(), CONFIG);
    });

    it("accepts every encoding Ignition does: b64 and the gzip+base64 spellings", async () => {
      const gz = gzipSync(CONFIG).toString("base64");
      for (const [encoding, data] of [["b64", Buffer.from(CONFIG).toString("base64")], ["gz+base64", gz], ["gzip+base64", gz], ["gz+b64", gz], ["gzip+b64", gz], ["", CONFIG]]) {
        process.env.PATH = `${fakeTool({ "guestinfo.ignition.config.data": data!, "guestinfo.ignition.config.data.encoding": encoding! })}:${savedPath}`;
        assert.equal((await (await loadPlatform("vmware")).fetchConfig(contextFor()))?.toString(), CONFIG, `encoding ${encoding}`);
      }
      process.env.PATH = `${fakeTool({ "guestinfo.ignition.config.data": "x", "guestinfo.ignition.config.data.encoding": "rot13" })}:${savedPath}`;
      await assert.rejects((await loadPlatform("vmware")).fetchConfig(contextFor()), /unknown encoding "rot13"/);
    });

    it("reads the config from the vApp/OVF properties in guestinfo.ovfenv; a direct guestinfo value wins", async () => {
      const ovfenv = (data: string, encoding: string) =>
        `<?xml version="1.0" encoding="UTF-8"?><Environment xmlns="http://schemas.dmtf.org/ovf/environment/1" xmlns:oe="http://schemas.dmtf.org/ovf/environment/1"><PlatformSection><Kind>VMware ESXi</Kind></PlatformSection><PropertySection><Property oe:key="guestinfo.ignition.config.data" oe:value="${data}"/><Property oe:key="guestinfo.ignition.config.data.encoding" oe:value="${encoding}"/></PropertySection></Environment>`;
      process.env.PATH = `${fakeTool({ "guestinfo.ovfenv": ovfenv(Buffer.from(CONFIG).toString("base64"), "base64") })}:${savedPath}`;
      assert.equal((await (await loadPlatform("vmware")).fetchConfig(contextFor()))?.toString(), CONFIG);
      process.env.PATH = `${fakeTool({ "guestinfo.ovfenv": ovfenv("&#123;&quot;ignored&quot;&#125;", ""), "guestinfo.ignition.config.data": CONFIG })}:${savedPath}`;
      assert.equal((await (await loadPlatform("vmware")).fetchConfig(contextFor()))?.toString(), CONFIG);
      process.env.PATH = `${fakeTool({ "guestinfo.ovfenv": ovfenv("{&quot;ignition&quot;:{&quot;version&quot;:&quot;3.4.0&quot;}}", "") })}:${savedPath}`;
      assert.equal((await (await loadPlatform("vmware")).fetchConfig(contextFor()))?.toString(), CONFIG);
    });

    it("has no config when guestinfo has none", async () => {
      process.env.PATH = `${fakeTool({})}:${savedPath}`;
      assert.equal(await (await loadPlatform("vmware")).fetchConfig(contextFor()), undefined);
    });

    it("says clearly that vmware-rpctool is missing", async () => {
      process.env.PATH = join(dir, "empty-bin");
      await assert.rejects((await loadPlatform("vmware")).fetchConfig(contextFor()), /vmware-rpctool is not installed/);
    });
  });

  describe("azure provisioning media", () => {
    it("looks only at CD-ROM drives (SCSI type 5), never at disks", async () => {
      for (const [name, type] of [["sda", "0"], ["sr0", "5"], ["sr1", "5"], ["vda", ""]]) {
        mkdirSync(join(dir, "sys/class/block", name, "device"), { recursive: true });
        if (type) writeFileSync(join(dir, "sys/class/block", name, "device/type"), `${type}\n`);
      }
      assert.deepEqual(await cdromDevices(join(dir, "sys"), "/dev"), ["/dev/sr0", "/dev/sr1"]);
      assert.deepEqual(await cdromDevices(join(dir, "no-sysfs"), "/dev"), []);
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

    it("takes only strings that name the cloud: not any Xen HVM guest, not a local Hyper-V VM", async () => {
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Xen", product_name: "HVM domU", bios_version: "4.11.amazon" })), "aws");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Xen", product_name: "HVM domU", bios_version: "4.16.0" })), "metal");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "Microsoft Corporation", product_name: "Virtual Machine", chassis_asset_tag: "1234-5678-9012-3456-7890-1234-56" })), "metal");
      assert.equal(await detectPlatform(dmi({ sys_vendor: "QEMU", product_name: "Standard PC (i440FX + PIIX, 1996)", chassis_asset_tag: "7783-7084-3265-9085-8269-3286-77" })), "azure");
    });
  });
});
