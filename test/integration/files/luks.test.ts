// At boot the disks stage formats LUKS volumes before the root is mounted and
// leaves each key in /run/flint/luks; the files stage must then put the key
// and a crypttab line into the root, or the installed system cannot unlock it.

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RUN_KEY_DIR } from "../../../agent/stages/luks-keys";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";
import { useTempRoot } from "../../helpers/root";
import { applyConfig, applyFailure, useCapturedLog, V } from "./run";

describe("files stage: LUKS keys from the disks stage", () => {
  useCapturedLog();
  const roots = useTempRoot();
  const name = `flint-files-luks-${process.pid}`;
  const runKey = join(RUN_KEY_DIR, name);
  let disk: LoopDisk;

  beforeEach(() => {
    disk = createLoopDisk(32, "flint-files-luks-");
  });
  afterEach(() => {
    rmSync(runKey, { force: true });
    disk.destroy();
  });

  const config = () => ({ ignition: { version: V }, storage: { luks: [{ name, device: disk.device }] } });

  it("copies the key left in /run into /etc/luks/<name> (0600) and adds a crypttab line with the volume's UUID", async () => {
    mkdirSync(RUN_KEY_DIR, { recursive: true, mode: 0o700 });
    writeFileSync(runKey, "generated key material", { mode: 0o600 });
    sh("cryptsetup", ["luksFormat", "--batch-mode", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", `--key-file=${runKey}`, disk.device]);
    const uuid = sh("blkid", ["-s", "UUID", "-o", "value", disk.device]).trim();

    await applyConfig(roots.root, config());

    const key = join(roots.root, "etc/luks", name);
    assert.equal(readFileSync(key, "utf8"), "generated key material");
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(readFileSync(join(roots.root, "etc/crypttab"), "utf8"), `${name} UUID=${uuid} /etc/luks/${name} luks\n`);
  });

  it("fails, naming the volume, when neither /run nor the root has its key", async () => {
    assert.match(await applyFailure(roots.root, config()), new RegExp(`storage\\.luks\\.0 \\(line 1, column \\d+\\), LUKS volume ${name}: no key for LUKS volume ${name}`));
    assert.equal(existsSync(join(roots.root, "etc/crypttab")), false);
  });
});
