// The image's contract, as Flatcar images expect it: config.ign in the OEM
// tree is the user config on every platform, oem:// URLs read that tree and
// nothing outside it, user data for coreos-cloudinit is left alone, and the
// files stage leaves /etc/.ignition-result.json as Ignition does.

import assert from "node:assert/strict";
import { restoreEnv } from "../../helpers/env";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { run as applyCommand } from "../../../agent/commands/apply";
import { run as fetchCommand } from "../../../agent/commands/fetch";
import { run as stageCommand } from "../../../agent/commands/stage";
import { describeError } from "../../../agent/errors";
import { IGNITION_RESULT_PATH } from "../../../agent/ignition-result";
import { configureLog } from "../../../agent/log";
import { createLoopDisk, sh, type LoopDisk } from "../../helpers/loop";

const FW_CFG = "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config/raw";
const fileConfig = (path: string, text: string, extra: object = {}) => JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path, contents: { source: `data:,${encodeURIComponent(text)}` } }] }, ...extra });

describe("the image's contract: OEM config.ign, oem:// URLs, non-Ignition user data, .ignition-result.json", () => {
  let dir: string;
  let savedEnv: NodeJS.ProcessEnv;
  let lines: string[];
  let disk: LoopDisk | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-contract-"));
    savedEnv = { ...process.env };
    process.env.FLINT_SYSFS_ROOT = join(dir, "sys");
    process.env.FLINT_LIB_DIR = join(dir, "lib");
    process.env.FLINT_OEM_DIR = join(dir, "oem");
    mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name"), { recursive: true });
    lines = [];
    configureLog({ level: "info", write: (line) => lines.push(line) });
  });
  afterEach(() => {
    restoreEnv(savedEnv);
    configureLog({ level: "info", write: (line) => process.stderr.write(line + "\n") });
    disk?.destroy();
    disk = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const put = (path: string, data: string | Buffer) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), data);
  };
  const cache = () => join(dir, "run/config.json");
  const fetch = (cmdline: string, command: "fetch-offline" | "fetch" = "fetch-offline") => {
    put("cmdline", cmdline);
    return fetchCommand([command, "--cmdline-file", join(dir, "cmdline"), "--cache", cache()]);
  };
  const cachedFiles = (): Record<string, string> => Object.fromEntries((JSON.parse(readFileSync(cache(), "utf8")).storage?.files ?? []).map((f: { path: string; contents: { source: string } }) => [f.path, decodeURIComponent(f.contents.source.replace(/^data:,/, ""))]));
  const record = () => JSON.parse(readFileSync(join(dir, "run/fetch-record.json"), "utf8")).sources as { role: string; source: string; kind?: string }[];
  const root = () => {
    mkdirSync(join(dir, "root/etc"), { recursive: true });
    return join(dir, "root");
  };
  const files = () => stageCommand(["files", "--root", root(), "--cache", cache()]);
  const result = () => JSON.parse(readFileSync(join(dir, "root", IGNITION_RESULT_PATH), "utf8"));
  const mountedMedia = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes("flint-media-"));

  describe("config.ign in the OEM tree", () => {
    for (const platform of ["metal", "qemu"]) {
      it(`is the user config on ${platform}, where the platform has none`, async () => {
        put("oem/config.ign", fileConfig("/etc/from-oem", "oem"));
        assert.equal(await fetch(`flatcar.first_boot=detected flatcar.oem.id=${platform}`), 0);
        assert.deepEqual(cachedFiles(), { "/etc/from-oem": "oem" });
        assert.deepEqual(record().map((s) => [s.role, s.source]), [["user", "oem:///config.ign"]]);
        assert.ok(lines.some((l) => l.includes("using config.ign from the OEM partition")), lines.join("\n"));
      });
    }

    it("wins over the platform's config and over the image's user.ign, as bootengine's copy to user.ign makes it on Flatcar", async () => {
      put("oem/config.ign", fileConfig("/etc/from", "oem"));
      put("lib/user.ign", fileConfig("/etc/from", "user.ign"));
      put(FW_CFG, fileConfig("/etc/from", "fw_cfg"));
      assert.equal(await fetch("flatcar.oem.id=qemu"), 0);
      assert.deepEqual(cachedFiles(), { "/etc/from": "oem" });
      rmSync(cache());
      rmSync(join(dir, "oem/config.ign"));
      assert.equal(await fetch("flatcar.oem.id=qemu"), 0);
      assert.deepEqual(cachedFiles(), { "/etc/from": "user.ign" });
    });

    it("gives way to ignition.config.url on the kernel command line; base configs apply under it either way", async () => {
      put("oem/config.ign", fileConfig("/etc/from", "oem"));
      put("oem/elsewhere/user.ign", fileConfig("/etc/from", "the command line"));
      put("oem/base/base.ign", fileConfig("/etc/base", "oem base"));
      assert.equal(await fetch("flatcar.oem.id=metal ignition.config.url=oem:///elsewhere/user.ign"), 0);
      assert.deepEqual(cachedFiles(), { "/etc/base": "oem base", "/etc/from": "the command line" });
      assert.deepEqual(record().map((s) => [s.role, s.source]), [["base", "oem:///base/base.ign"], ["user", "oem:///elsewhere/user.ign"]]);
      assert.equal(existsSync(join(dir, "run/neednet")), false, "oem:// needs no network");
    });

    it("is read from a real OEM partition (mounted read-only for the fetch, then unmounted), as are oem:// files at stage time", async () => {
      put("content/config.ign", fileConfig("/etc/from-oem", "partition", {}));
      put("content/files/motd", "from the OEM partition\n");
      const config = JSON.parse(readFileSync(join(dir, "content/config.ign"), "utf8"));
      config.storage.files.push({ path: "/etc/motd", mode: 0o644, contents: { source: "oem:///files/motd" } });
      put("content/config.ign", JSON.stringify(config));
      disk = createLoopDisk(16, "flint-oem-");
      sh("mkfs.ext4", ["-q", "-L", "OEM", "-d", join(dir, "content"), disk.device]);
      process.env.FLINT_OEM_DEVICE = disk.device;
      process.env.FLINT_OEM_DIR = join(dir, "no-oem-directory");
      assert.equal(await fetch("flatcar.first_boot=detected flatcar.oem.id=metal"), 0);
      assert.equal(cachedFiles()["/etc/from-oem"], "partition");
      assert.deepEqual(mountedMedia(), [], "the OEM partition is unmounted after fetch");
      assert.equal(await files(), 0);
      assert.equal(readFileSync(join(dir, "root/etc/motd"), "utf8"), "from the OEM partition\n");
      assert.equal(statSync(join(dir, "root/etc/motd")).mode & 0o777, 0o644);
      assert.deepEqual(mountedMedia(), [], "and after the files stage's oem:// read");
    });
  });

  describe("oem:// URLs", () => {
    it("read merge references and file contents from the OEM tree, offline", async () => {
      put("oem/extra.ign", fileConfig("/etc/extra", "merged"));
      put("oem/files/motd", "hello from oem\n");
      put(FW_CFG, JSON.stringify({
        ignition: { version: "3.4.0", config: { merge: [{ source: "oem:///extra.ign" }] } },
        storage: { files: [{ path: "/etc/motd", contents: { source: "oem:///files/motd", compression: "" } }] },
      }));
      assert.equal(await fetch("flatcar.oem.id=qemu"), 0);
      assert.equal(existsSync(join(dir, "run/neednet")), false);
      assert.deepEqual(record().map((s) => [s.role, s.source]), [["platform", "qemu platform"], ["merge", "oem:///extra.ign"]]);
      assert.equal(await files(), 0);
      assert.equal(readFileSync(join(dir, "root/etc/motd"), "utf8"), "hello from oem\n");
      assert.equal(readFileSync(join(dir, "root/etc/extra"), "utf8"), "merged");
    });

    it("take gzip and verification like any source", async () => {
      put("oem/files/big.gz", gzipSync("unzipped\n"));
      put("lib/user.ign", JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/big", contents: { source: "oem:///files/big.gz", compression: "gzip", verification: { hash: "sha256-0000000000000000000000000000000000000000000000000000000000000000" } } }] } }));
      assert.equal(await fetch("flatcar.oem.id=metal"), 0);
      await assert.rejects(files(), (e: unknown) => /storage\.files\.0\.contents .*file \/etc\/big: verification failed: expected sha256-0+, got sha256-/.test(describeError(e)));
    });

    it("never read outside the OEM tree: .. stops at its top, symlinks resolve inside it", async () => {
      put("secret.ign", fileConfig("/etc/leak", "outside the OEM tree"));
      put("oem/placeholder", "");
      symlinkSync("../secret.ign", join(dir, "oem/relative.ign"));
      symlinkSync(join(dir, "secret.ign"), join(dir, "oem/absolute.ign"));
      for (const path of ["/../secret.ign", "/relative.ign", "/absolute.ign", "/%2e%2e/secret.ign"]) {
        rmSync(join(dir, "run"), { recursive: true, force: true });
        await assert.rejects(fetch(`flatcar.oem.id=metal ignition.config.url=oem://${path}`), (e: unknown) => {
          assert.match(describeError(e), /no such file in the OEM tree/, path);
          return true;
        });
        assert.equal(existsSync(cache()), false);
      }
      // A FIFO is refused, never waited on.
      sh("mkfifo", [join(dir, "oem/fifo.ign")]);
      rmSync(join(dir, "run"), { recursive: true, force: true });
      await assert.rejects(fetch("flatcar.oem.id=metal ignition.config.url=oem:///fifo.ign"), (e: unknown) => /fifo\.ign: is a FIFO, not a regular file/.test(describeError(e)));
      // A symlink that stays inside the tree is followed there.
      put("oem/real.ign", fileConfig("/etc/linked", "inside"));
      symlinkSync("/real.ign", join(dir, "oem/inside.ign"));
      assert.equal(await fetch("flatcar.oem.id=metal ignition.config.url=oem:///inside.ign"), 0);
      assert.deepEqual(cachedFiles(), { "/etc/linked": "inside" });
    });

    it("must name an absolute path: oem://config.ign is refused on the command line and in a config", async () => {
      put("oem/config.ign", fileConfig("/etc/x", "x"));
      await assert.rejects(fetch("flatcar.oem.id=metal ignition.config.url=oem://config.ign"), /absolute path in the OEM tree, as oem:\/\/\/config\.ign/);
      put("lib/user.ign", JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/x", contents: { source: "oem://files/x" } }] } }));
      rmSync(join(dir, "oem/config.ign"));
      await assert.rejects(fetch("flatcar.oem.id=metal"), /storage\.files\.0\.contents\.source.*invalid oem URL "oem:\/\/files\/x"/s);
    });
  });

  describe("user data that is not an Ignition config", () => {
    const kinds: [string, string | Buffer][] = [
      ["cloud-config", "#cloud-config\nhostname: cloudy\n"],
      ["script", "#!/bin/bash\necho hello\n"],
      ["MIME multipart", 'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/x-shellscript\r\n\r\n#!/bin/sh\r\n--b--\r\n'],
      ["cloud-config", gzipSync("#cloud-config\nhostname: gzipped\n")],
    ];
    for (const [kind, data] of kinds) {
      it(`${Buffer.isBuffer(data) ? "gzip " : ""}${kind} from the platform is left to the OS: no failure, base configs still apply, userConfigProvided false`, async () => {
        put(FW_CFG, data);
        put("lib/base.d/10-base.ign", fileConfig("/etc/base", "base"));
        assert.equal(await fetch("flatcar.first_boot=detected flatcar.oem.id=qemu"), 0);
        assert.deepEqual(cachedFiles(), { "/etc/base": "base" });
        assert.deepEqual(record().map((s) => [s.role, s.source, s.kind]), [["base", join(dir, "lib/base.d/10-base.ign"), undefined], ["not-ignition", "qemu platform", kind]]);
        assert.ok(lines.some((l) => l.includes(`user data, not an Ignition config: left to the OS (coreos-cloudinit)`) && l.includes(kind === "script" ? "a script" : kind)), lines.join("\n"));
        assert.equal(await files(), 0);
        assert.equal(readFileSync(join(dir, "root/etc/base"), "utf8"), "base");
        assert.equal(result().userConfigProvided, false);
      });
    }

    it("is left alone from the OEM config.ign and from the command line's URL too", async () => {
      put("oem/config.ign", "#cloud-config\n");
      assert.equal(await fetch("flatcar.oem.id=metal"), 0);
      assert.deepEqual(record(), [{ role: "not-ignition", source: "oem:///config.ign", bytes: 14, kind: "cloud-config" }]);
      rmSync(join(dir, "run"), { recursive: true });
      put("oem/script.sh", "#!/bin/sh\n");
      assert.equal(await fetch("flatcar.oem.id=metal ignition.config.url=oem:///script.sh"), 0);
      assert.deepEqual(record().map((s) => [s.role, s.kind]), [["not-ignition", "script"]]);
    });

    it("anything else that is not JSON still fails, naming where it came from", async () => {
      put(FW_CFG, "#cloud-config-archive\n- x\n");
      await assert.rejects(fetch("flatcar.oem.id=qemu"), (e: unknown) => /^qemu platform: invalid config:\n  invalid JSON: invalid symbol \(line 1, column 1\)/.test(describeError(e)));
    });
  });

  describe("/etc/.ignition-result.json", () => {
    it("is written by the files stage at boot with Ignition's keys, format, mode and owner, beside Flint's own report", async () => {
      put("oem/config.ign", fileConfig("/etc/motd", "hi"));
      assert.equal(await fetch("flatcar.first_boot=detected flatcar.oem.id=metal"), 0);
      const before = Date.now();
      assert.equal(await files(), 0);
      const path = join(dir, "root", IGNITION_RESULT_PATH);
      const text = readFileSync(path, "utf8");
      const value = JSON.parse(text);
      assert.deepEqual(Object.keys(value), ["provisioningBootID", "provisioningDate", "userConfigProvided"]);
      assert.equal(text, JSON.stringify(value, null, 2) + "\n");
      assert.equal(value.provisioningBootID, readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim());
      assert.match(value.provisioningDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
      assert.ok(Math.abs(Date.parse(value.provisioningDate) - before) < 60_000, value.provisioningDate);
      assert.equal(value.userConfigProvided, true);
      const st = statSync(path);
      assert.equal(st.mode & 0o7777, 0o600);
      assert.equal(st.uid, 0);
      assert.equal(st.gid, 0);
      assert.ok(existsSync(join(dir, "root/etc/.flint-result.json")));
      const report = JSON.parse(readFileSync(join(dir, "root/etc/.flint-result.json"), "utf8"));
      assert.ok(report.stages[0].actions.some((a: { kind: string; target: string }) => a.kind === "create" && a.target === IGNITION_RESULT_PATH));
    });

    it("says userConfigProvided false when there was no user config, and keeps a previous result when run again", async () => {
      assert.equal(await fetch("flatcar.oem.id=metal"), 0);
      assert.equal(await files(), 0);
      const first = result();
      assert.equal(first.userConfigProvided, false);
      assert.equal(await files(), 0);
      const second = result();
      assert.deepEqual(second.previousReport, first);
      assert.deepEqual(Object.keys(second), ["provisioningBootID", "provisioningDate", "userConfigProvided", "previousReport"]);
      assert.ok(lines.some((l) => l.includes("has already provisioned this root")), lines.join("\n"));
    });

    it("counts a config referenced by a base config as a user config, as Ignition does", async () => {
      put("oem/extra.ign", fileConfig("/etc/extra", "x"));
      put("lib/base.d/10.ign", JSON.stringify({ ignition: { version: "3.4.0", config: { merge: [{ source: "oem:///extra.ign" }] } } }));
      assert.equal(await fetch("flatcar.oem.id=metal"), 0);
      assert.equal(await files(), 0);
      assert.equal(result().userConfigProvided, true);
    });

    it("is not written by flint apply (only the boot's files stage, as ignition-apply writes none)", async () => {
      put("apply.ign", fileConfig("/etc/motd", "hi"));
      assert.equal(await applyCommand(["apply", "--config", join(dir, "apply.ign"), "--root", root()]), 0);
      assert.equal(readFileSync(join(dir, "root/etc/motd"), "utf8"), "hi");
      assert.deepEqual(readdirSync(join(dir, "root/etc")).filter((n) => n.includes("ignition")), []);
    });
  });
});
