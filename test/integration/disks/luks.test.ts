// LUKS volumes on real loop devices with cryptsetup: formatting with a key
// file or a generated key, reuse of an existing volume, and (where the kernel
// has device-mapper) opening it and making a filesystem inside.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Luks } from "../../../agent/config/types";
import { FlintError } from "../../../agent/errors";
import { createLoopDisk, kernelHas, sh, type LoopDisk } from "../../helpers/loop";
import { blkid, runStage, storageConfig } from "./helpers";

// A cheap key derivation keeps the tests quick and light on memory; the
// options are passed to cryptsetup unchanged, as any config's would be.
const FAST_KDF = ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"];
const KEY = "correct horse battery staple";
const KEY_URL = `data:,${encodeURIComponent(KEY)}`;
const UUID = "7b0bd8a2-3c5e-4e1f-9d2a-00000000c0de";

function unlocks(device: string, keyFile: string): boolean {
  try {
    sh("cryptsetup", ["open", "--test-passphrase", `--key-file=${keyFile}`, device]);
    return true;
  } catch {
    return false;
  }
}

describe("disks stage: LUKS", () => {
  let disk: LoopDisk;
  let work: string;
  let keyDir: string;
  let keyCopy: string;
  const name = `flint-test-${process.pid}`;
  const volume = (extra: Partial<Luks> = {}): Luks => ({ name, device: disk.device, options: FAST_KDF, ...extra });
  const stage = (luks: Luks, options: { root?: string; dryRun?: boolean } = {}) => runStage(storageConfig({ luks: [luks] }), { ...options, luksKeyDir: keyDir });

  beforeEach(() => {
    disk = createLoopDisk(32, "flint-luks-");
    work = mkdtempSync(join(tmpdir(), "flint-luks-work-"));
    keyDir = join(work, "keys");
    keyCopy = join(work, "the-key");
    writeFileSync(keyCopy, KEY);
  });
  afterEach(() => {
    if (existsSync(`/dev/mapper/${name}`)) sh("cryptsetup", ["close", name]);
    disk?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  // Everything up to opening works without device-mapper; these use the
  // formatting step alone so they run on any kernel.
  describe("formatting (no device-mapper needed)", () => {
    let prepare: typeof import("../../../agent/stages/disks/luks").prepareLuksVolume;
    before(async () => {
      prepare = (await import("../../../agent/stages/disks/luks")).prepareLuksVolume;
    });
    const context = (root = "/nonexistent-root") => ({ root, dryRun: false, actions: [] });

    it("formats LUKS2 with the key file, label and uuid, and the same key opens it again", async () => {
      await prepare(volume({ keyFile: { source: KEY_URL }, label: "secret", uuid: UUID }), "storage.luks.0", context(), { keyDir });
      const found = blkid(disk.device);
      assert.equal(found.TYPE, "crypto_LUKS");
      assert.equal(found.VERSION, "2");
      assert.equal(found.LABEL, "secret");
      assert.equal(found.UUID, UUID);
      assert.ok(unlocks(disk.device, keyCopy), "the configured key unlocks the volume");
      writeFileSync(join(work, "wrong"), "not the key");
      assert.equal(unlocks(disk.device, join(work, "wrong")), false);
      assert.equal(statSync(join(keyDir, name)).mode & 0o777, 0o600);
    });

    it("generates a random key, keeps it 0600, and writes it to /etc/luks/<name> in a mounted root", async () => {
      const root = join(work, "root");
      mkdirSync(join(root, "etc"), { recursive: true });
      const ctx = context(root);
      await prepare(volume(), "storage.luks.0", ctx, { keyDir });
      const runKey = join(keyDir, name);
      const rootKey = join(root, "etc", "luks", name);
      assert.equal(readFileSync(runKey).length, 256);
      assert.deepEqual(readFileSync(rootKey), readFileSync(runKey));
      assert.equal(statSync(rootKey).mode & 0o777, 0o600);
      assert.ok(unlocks(disk.device, rootKey));
      assert.deepEqual(ctx.actions.map((a: { kind: string }) => a.kind), ["luks", "luks-key"]);
      assert.equal(readFileSync(join(root, "etc", "crypttab"), "utf8"), `${name} UUID=${blkid(disk.device).UUID} /etc/luks/${name} luks\n`);
    });

    it("puts the key and a crypttab line into a root mounted later (persistLuksVolumes)", async () => {
      const luks = volume({ keyFile: { source: KEY_URL }, discard: true });
      await prepare(luks, "storage.luks.0", context(), { keyDir });
      const root = join(work, "later-root");
      mkdirSync(join(root, "etc"), { recursive: true });
      writeFileSync(join(root, "etc", "crypttab"), `other UUID=1234 none luks\n${name} UUID=stale /etc/luks/${name} luks\n`);
      const { persistLuksVolumes } = await import("../../../agent/stages/luks-keys");
      await persistLuksVolumes([{ luks, where: "storage.luks.0" }], root, { keyDir });
      assert.equal(readFileSync(join(root, "etc", "luks", name), "utf8"), KEY);
      assert.equal(readFileSync(join(root, "etc", "crypttab"), "utf8"), `other UUID=1234 none luks\n${name} UUID=${blkid(disk.device).UUID} /etc/luks/${name} luks,discard\n`);
    });

    it("keeps an existing volume that the key file unlocks", async () => {
      await prepare(volume({ keyFile: { source: KEY_URL } }), "storage.luks.0", context(), { keyDir });
      const uuid = blkid(disk.device).UUID;
      const ctx = context();
      await prepare(volume({ keyFile: { source: KEY_URL } }), "storage.luks.0", ctx, { keyDir });
      assert.equal(blkid(disk.device).UUID, uuid);
      assert.match((ctx.actions[0] as { detail: string }).detail, /^reuse/);
    });

    it("fails when the key file does not unlock the existing volume, and leaves it", async () => {
      await prepare(volume({ keyFile: { source: KEY_URL } }), "storage.luks.0", context(), { keyDir });
      const uuid = blkid(disk.device).UUID;
      await assert.rejects(prepare(volume({ keyFile: { source: "data:,another%20key" } }), "storage.luks.0", context(), { keyDir }), /the keyFile does not unlock the existing LUKS volume/);
      assert.equal(blkid(disk.device).UUID, uuid);
      assert.ok(unlocks(disk.device, keyCopy));
    });

    it("refuses a device holding a filesystem unless wipeVolume is set", async () => {
      sh("mkfs.ext4", ["-q", "-F", disk.device]);
      await assert.rejects(prepare(volume({ keyFile: { source: KEY_URL } }), "storage.luks.0", context(), { keyDir }), (e: unknown) => {
        assert.ok(e instanceof FlintError);
        assert.match(e.message, /already holds ext4; set wipeVolume/);
        assert.equal(e.where, "storage.luks.0");
        return true;
      });
      assert.equal(blkid(disk.device).TYPE, "ext4");
      await prepare(volume({ keyFile: { source: KEY_URL }, wipeVolume: true }), "storage.luks.0", context(), { keyDir });
      assert.equal(blkid(disk.device).TYPE, "crypto_LUKS");
    });
  });

  it("rejects clevis tang before touching any disk", async () => {
    await assert.rejects(stage(volume({ clevis: { tang: [{ url: "http://127.0.0.1:1" }] } })), /clevis \(tang, tpm2, custom pins\) is not supported yet/);
    assert.deepEqual(blkid(disk.device), {});
  });

  it("opens the volume as /dev/mapper/<name> and makes a filesystem inside, which the same key opens again", async function () {
    if (!kernelHas("dm")) this.skip(); // this host's kernel has no device-mapper; the initramfs kernel has it
    await runStage(
      storageConfig({ luks: [volume({ keyFile: { source: KEY_URL } })], filesystems: [{ device: `/dev/mapper/${name}`, format: "ext4", label: "inside" }] }),
      { luksKeyDir: keyDir },
    );
    assert.equal(blkid(`/dev/mapper/${name}`).LABEL, "inside");
    sh("cryptsetup", ["close", name]);
    sh("cryptsetup", ["open", `--key-file=${keyCopy}`, disk.device, name]);
    assert.equal(blkid(`/dev/mapper/${name}`).LABEL, "inside");
  });
});
