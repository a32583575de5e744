import assert from "node:assert/strict";
import { restoreEnv } from "../../helpers/env";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run as fetchCommand } from "../../../agent/commands/fetch";
import { run as stageCommand } from "../../../agent/commands/stage";
import { describeError } from "../../../agent/errors";
import { documentTree } from "../../../agent/config/index";
import type { Config } from "../../../agent/config/types";
import { configureLog } from "../../../agent/log";
import { resolveConfigReferences } from "../../../agent/stages/fetch/references";
import { routes, startHttpServer, startHttpsServer, type TestServer } from "../../helpers/servers/http";
import { makeTestCa } from "../../helpers/servers/tls";

const sourced = (config: Config) => ({ config, sources: documentTree({ name: "test config" }) });
const sha512 = (text: string) => "sha512-" + createHash("sha512").update(text).digest("hex");
const FW_CFG = "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config/raw";

describe("flint fetch-offline / fetch", () => {
  let dir: string;
  let savedEnv: NodeJS.ProcessEnv;
  const servers: TestServer[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-fetch-"));
    savedEnv = { ...process.env };
    process.env.FLINT_SYSFS_ROOT = join(dir, "sys");
    process.env.FLINT_LIB_DIR = join(dir, "lib");
    process.env.FLINT_OEM_DIR = join(dir, "oem");
    mkdirSync(join(dir, "sys/firmware/qemu_fw_cfg/by_name"), { recursive: true });
  });
  afterEach(async () => {
    restoreEnv(savedEnv);
    configureLog({ level: "info", write: (line) => process.stderr.write(line + "\n") });
    await Promise.all(servers.splice(0).map((s) => s.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  const put = (path: string, text: string) => {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  const cmdline = (text: string) => {
    put("cmdline", text);
    return join(dir, "cmdline");
  };
  const cache = () => join(dir, "run/config.json");
  const fetch = (command: "fetch-offline" | "fetch", ...extra: string[]) => fetchCommand([command, "--cmdline-file", join(dir, "cmdline"), "--cache", cache(), ...extra]);
  const cached = () => JSON.parse(readFileSync(cache(), "utf8"));

  it("caches the QEMU fw_cfg config offline, mode 0600, with a record of its source", async () => {
    cmdline("flatcar.first_boot=detected flatcar.oem.id=qemu");
    put(FW_CFG, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/motd", contents: { source: "data:,hi" } }] } }));
    assert.equal(await fetch("fetch-offline"), 0);
    assert.equal(statSync(cache()).mode & 0o777, 0o600);
    assert.equal(cached().storage.files[0].path, "/etc/motd");
    assert.equal(existsSync(join(dir, "run/neednet")), false);
    const record = JSON.parse(readFileSync(join(dir, "run/fetch-record.json"), "utf8"));
    assert.deepEqual(record.sources, [{ role: "platform", source: "qemu platform", bytes: readFileSync(join(dir, FW_CFG)).length }]);
  });

  it("merges base.d, the OEM base, the platform config and an HTTP merge reference verified by hash", async () => {
    const extra = JSON.stringify({ ignition: { version: "3.4.0" }, systemd: { units: [{ name: "extra.service", enabled: true, contents: "[Service]\nExecStart=/bin/true\n" }] } });
    const server = await startHttpServer(routes({ "/extra.ign": extra }));
    servers.push(server);
    cmdline("flatcar.first_boot=1 flatcar.oem.id=qemu");
    put("lib/base.d/10-base.ign", JSON.stringify({ ignition: { version: "3.0.0" }, storage: { files: [{ path: "/etc/base", contents: { source: "data:,contents-from-a-base-config" } }, { path: "/etc/overridden", contents: { source: "data:,contents-from-a-base-config" } }] } }));
    put("lib/base.d/20-more.ign", JSON.stringify({ ignition: { version: "3.4.0" }, passwd: { users: [{ name: "core", groups: ["wheel"] }] } }));
    put("oem/base/base.ign", JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/oem-base", contents: { source: "data:,oem" } }] } }));
    put(FW_CFG, JSON.stringify({
      ignition: { version: "3.4.0", config: { merge: [{ source: `${server.url}/extra.ign`, verification: { hash: sha512(extra) } }] } },
      storage: { files: [{ path: "/etc/overridden", contents: { source: "data:,contents-from-the-user-config" } }] },
    }));

    assert.equal(await fetch("fetch-offline"), 0);
    assert.equal(existsSync(cache()), false, "the merge reference needs the network");
    assert.equal(existsSync(join(dir, "run/neednet")), true);
    assert.equal(server.requests.length, 0);

    assert.equal(await fetch("fetch"), 0);
    const config = cached();
    const files = Object.fromEntries(config.storage.files.map((f: { path: string; contents: { source: string } }) => [f.path, f.contents.source]));
    assert.deepEqual(files, { "/etc/base": "data:,contents-from-a-base-config", "/etc/overridden": "data:,contents-from-the-user-config", "/etc/oem-base": "data:,oem" });
    assert.deepEqual(config.passwd.users, [{ name: "core", groups: ["wheel"] }]);
    assert.equal(config.systemd.units[0].name, "extra.service");
    assert.equal(config.ignition.config, undefined);
    const record = JSON.parse(readFileSync(join(dir, "run/fetch-record.json"), "utf8"));
    assert.deepEqual(record.sources.map((s: { role: string }) => s.role), ["base", "base", "base", "platform", "merge"]);
    assert.equal(record.sources[4].source, `${server.url}/extra.ign`);

    // A second run finds the cache and fetches nothing.
    assert.equal(await fetch("fetch"), 0);
    assert.equal(server.requests.length, 1);
  });

  it("fails when a merge reference's hash does not match, writing no cache", async () => {
    const server = await startHttpServer(routes({ "/extra.ign": JSON.stringify({ ignition: { version: "3.4.0" } }) }));
    servers.push(server);
    cmdline("flatcar.oem.id=qemu");
    put(FW_CFG, JSON.stringify({ ignition: { version: "3.4.0", config: { merge: [{ source: `${server.url}/extra.ign`, verification: { hash: sha512("other") } }] } } }));
    await assert.rejects(fetch("fetch"), /verification failed: expected sha512-/);
    assert.equal(existsSync(cache()), false);
  });

  it("at stage time, names the merged config's URL, the path and position inside it, and the file of a bad hash", async () => {
    // Pretty-printed, so the position inside the merged document is easy to check.
    const merged = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/good", contents: { source: "data:,fine" } }, { path: "/etc/bad", contents: { source: "data:,actual", verification: { hash: sha512("expected") } } }] } }, null, 2);
    const server = await startHttpServer(routes({ "/child.ign": merged }));
    servers.push(server);
    cmdline("flatcar.oem.id=qemu");
    put(FW_CFG, JSON.stringify({
      ignition: { version: "3.4.0", config: { merge: [{ source: `${server.url}/child.ign?token=s3cret` }] } },
      storage: { files: [{ path: "/etc/mine", contents: { source: "data:,contents-from-the-user-config" } }] },
    }));
    assert.equal(await fetch("fetch"), 0);
    assert.equal(statSync(join(dir, "run/config-sources.json")).mode & 0o777, 0o600);
    // In the merged result the bad file is storage.files.2; in the document it came from, storage.files.1.
    assert.equal(cached().storage.files[2].path, "/etc/bad");
    const root = join(dir, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    const error = await stageCommand(["files", "--root", root, "--cache", cache()]).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof Error, "the files stage should fail");
    const lines = merged.split("\n");
    const line = lines.map((l) => l.includes('"contents"')).lastIndexOf(true) + 1;
    const column = lines[line - 1]!.indexOf("{") + 1;
    assert.equal(describeError(error).split(": verification failed")[0], `merged config ${server.url}/child.ign?…: storage.files.1.contents (line ${line}, column ${column}), file /etc/bad`);
    assert.doesNotMatch(describeError(error), /s3cret/);
  });

  it("names the reference's place in the user config and its URL when TLS fails on a certificate's dates", async () => {
    const ca = makeTestCa({ from: "20350101000000Z", to: "20360101000000Z" });
    const server = await startHttpsServer(routes({ "/child.ign": JSON.stringify({ ignition: { version: "3.4.0" } }) }), ca);
    servers.push(server);
    cmdline("flatcar.oem.id=qemu");
    put(FW_CFG, JSON.stringify({
      ignition: {
        version: "3.4.0",
        security: { tls: { certificateAuthorities: [{ source: `data:;base64,${Buffer.from(ca.caCert).toString("base64")}` }] } },
        config: { merge: [{ source: `${server.url}/child.ign` }] },
      },
    }));
    const column = readFileSync(join(dir, FW_CFG), "utf8").indexOf('{"source":"https') + 1;
    await assert.rejects(fetch("fetch"), (e: unknown) => {
      const text = describeError(e);
      assert.ok(text.startsWith(`user config from the qemu platform: ignition.config.merge.0 (line 1, column ${column}): ${server.url}/child.ign: TLS: certificate is not yet valid: `), text);
      assert.match(text, /valid from 2035-01-01 to 2036-01-01 but the system clock says .*; the clock is likely wrong/);
      return true;
    });
    assert.equal(existsSync(cache()), false);
  });

  it("takes the user config from ignition.config.url over the platform's", async () => {
    const server = await startHttpServer(routes({ "/user.ign": JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-url" }] } }) }));
    servers.push(server);
    cmdline(`flatcar.oem.id=qemu ignition.config.url=${server.url}/user.ign`);
    put(FW_CFG, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/from-fw-cfg" }] } }));
    assert.equal(await fetch("fetch-offline"), 0);
    assert.equal(existsSync(join(dir, "run/neednet")), true);
    assert.equal(await fetch("fetch"), 0);
    assert.deepEqual(cached().storage.files.map((f: { path: string }) => f.path), ["/etc/from-url"]);
  });

  it("reports a reference cycle as an error", async () => {
    const a = JSON.stringify({ ignition: { version: "3.4.0", config: { merge: [{ source: "PLACEHOLDER/b.ign" }] } } });
    const server = await startHttpServer((req, res) => {
      const url = `http://127.0.0.1:${server.port}`;
      if (req.url === "/a.ign") return res.end(a.replace("PLACEHOLDER", url));
      if (req.url === "/b.ign") return res.end(JSON.stringify({ ignition: { version: "3.4.0", config: { replace: { source: `${url}/a.ign` } } } }));
      res.statusCode = 404;
      res.end();
    });
    servers.push(server);
    const start = { ignition: { version: "3.4.0", config: { merge: [{ source: `${server.url}/a.ign` }] } } };
    await assert.rejects(resolveConfigReferences(sourced(start)), /config reference cycle: .*\/a\.ign → .*\/b\.ign → .*\/a\.ign/);
  });

  it("stops references nested deeper than 10 levels", async () => {
    const server = await startHttpServer((req, res) => {
      const n = Number(/\/(\d+)\.ign/.exec(req.url ?? "")?.[1]);
      res.end(JSON.stringify({ ignition: { version: "3.4.0", config: { merge: [{ source: `http://127.0.0.1:${server.port}/${n + 1}.ign` }] } } }));
    });
    servers.push(server);
    await assert.rejects(resolveConfigReferences(sourced({ ignition: { version: "3.4.0", config: { merge: [{ source: `${server.url}/0.ign` }] } } })), /nest deeper than 10 levels/);
  });

  it("rejects an invalid config without caching anything", async () => {
    cmdline("flatcar.oem.id=qemu");
    put(FW_CFG, '{"ignition":{"version":"3.4.0"},"storage":{"files":[{"path":"relative"}]}}');
    await assert.rejects(fetch("fetch-offline"), /storage\.files\.0\.path/);
    assert.equal(existsSync(cache()), false);
  });

  it("names the known platforms when oem.id is unknown", async () => {
    cmdline("flatcar.oem.id=nimbus");
    await assert.rejects(fetch("fetch-offline"), /unknown platform "nimbus"; known platforms: qemu, file, metal/);
  });

  it("never logs config contents, header values or password hashes, even at debug level", async () => {
    const secretFile = "TOP-SECRET-FILE-CONTENTS";
    const secretHeader = "TOP-SECRET-HEADER-VALUE";
    const hash = "$6$rounds=4096$saltsalt$TOPSECRETHASHvalue";
    const child = JSON.stringify({ ignition: { version: "3.4.0" }, storage: { files: [{ path: "/etc/secret", contents: { source: `data:,${secretFile}` } }] } });
    const server = await startHttpServer((req, res, index) => {
      if (index === 0) {
        res.statusCode = 503; // one retry, so the retry path logs too
        return res.end(secretFile);
      }
      res.end(req.headers["x-secret"] === secretHeader ? child : "{}");
    });
    servers.push(server);
    cmdline("flatcar.oem.id=qemu flint.log=debug");
    put(FW_CFG, JSON.stringify({
      ignition: { version: "3.4.0", config: { merge: [{ source: `${server.url}/child.ign?token=${secretHeader}`, httpHeaders: [{ name: "X-Secret", value: secretHeader }] }] } },
      passwd: { users: [{ name: "core", passwordHash: hash }] },
      storage: { files: [{ path: "/etc/other", contents: { source: `data:,${secretFile}-2` } }] },
    }));
    const lines: string[] = [];
    configureLog({ level: "debug", write: (line) => lines.push(line) });
    await fetch("fetch");
    configureLog({ format: "json" });
    await fetch("fetch"); // the cached path logs too
    rmSync(cache());
    await fetch("fetch");
    configureLog({ format: "text" });
    const log = lines.join("\n");
    assert.ok(lines.length > 5, "the debug log was captured");
    for (const secret of [secretFile, secretHeader, hash, "TOPSECRETHASH"]) assert.ok(!log.includes(secret), `the log contains ${secret}:\n${log}`);
    assert.equal(cached().storage.files.length, 2);
  });
});
