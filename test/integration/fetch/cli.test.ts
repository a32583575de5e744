import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { routes, startHttpServer, type TestServer } from "../../helpers/servers/http";
import { buildBundle } from "../../helpers/bundle";

/** Runs the built bundle without blocking this process (the test's servers must keep answering). */
function flint(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["dist/flint.js", ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stderr }));
  });
}

describe("flint fetch-offline / fetch from the built bundle", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let server: TestServer | undefined;
  before(buildBundle);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "flint-fetch-cli-"));
    env = { FLINT_SYSFS_ROOT: join(dir, "sys"), FLINT_LIB_DIR: join(dir, "lib"), FLINT_OEM_DIR: join(dir, "oem") };
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const args = (command: string, cmdline: string) => {
    writeFileSync(join(dir, "cmdline"), cmdline);
    return [command, "--cmdline-file", join(dir, "cmdline"), "--cache", join(dir, "run/config.json"), "--log-level", "debug"];
  };

  it("caches the QEMU fw_cfg config with fetch-offline, exit 0", async () => {
    const fwCfg = join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config");
    mkdirSync(fwCfg, { recursive: true });
    writeFileSync(join(fwCfg, "raw"), '{"ignition":{"version":"3.4.0"},"passwd":{"users":[{"name":"core","passwordHash":"$6$SECRETHASH"}]}}');
    const result = await flint(args("fetch-offline", "flatcar.first_boot=detected flatcar.oem.id=qemu"), env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(statSync(join(dir, "run/config.json")).mode & 0o777, 0o600);
    assert.equal(JSON.parse(readFileSync(join(dir, "run/config.json"), "utf8")).passwd.users[0].name, "core");
    assert.ok(!result.stderr.includes("SECRETHASH"));
  });

  it("exits 1 naming the resource when a config cannot be fetched, 2 on a usage error", async () => {
    server = await startHttpServer(routes({}));
    const failed = await flint(args("fetch", `ignition.config.url=${server.url}/missing.ign`), { ...env });
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /missing\.ign: HTTP status 404 Not Found/);
    const usage = await flint(["fetch", "--bogus"], env);
    assert.equal(usage.status, 2);
  });

  it("takes Butane YAML as the config from a URL and from the OEM partition's config.ign", async () => {
    const butane = (greeting: string) => `variant: flatcar\nversion: 1.1.0\nstorage:\n  files:\n    - path: /etc/greeting\n      mode: 0644\n      contents:\n        inline: ${greeting}\n`;
    const cached = () => JSON.parse(readFileSync(join(dir, "run/config.json"), "utf8"));
    server = await startHttpServer(routes({ "/machine.bu": butane("from a URL") }));
    const fromUrl = await flint(args("fetch", `ignition.config.url=${server.url}/machine.bu`), env);
    assert.equal(fromUrl.status, 0, fromUrl.stderr);
    assert.deepEqual(cached().storage.files[0], { path: "/etc/greeting", mode: 0o644, contents: { source: "data:,from%20a%20URL", compression: "" } });

    rmSync(join(dir, "run"), { recursive: true, force: true }); // a cached config is not fetched again
    mkdirSync(join(dir, "oem"), { recursive: true });
    writeFileSync(join(dir, "oem/config.ign"), butane("from the OEM partition"));
    const fromOem = await flint(args("fetch-offline", "flatcar.first_boot=detected flatcar.oem.id=file"), env);
    assert.equal(fromOem.status, 0, fromOem.stderr);
    assert.equal(cached().storage.files[0].contents.source, "data:,from%20the%20OEM%20partition");
  });

  it("fails a Butane config with a local: reference on a boot, naming its line", async () => {
    const fwCfg = join(dir, "sys/firmware/qemu_fw_cfg/by_name/opt/org.flatcar-linux/config");
    mkdirSync(fwCfg, { recursive: true });
    writeFileSync(join(fwCfg, "raw"), "variant: fcos\nversion: 1.5.0\nstorage:\n  files:\n    - path: /etc/motd\n      contents:\n        local: motd.txt\n");
    const result = await flint(args("fetch-offline", "flatcar.first_boot=detected flatcar.oem.id=qemu"), env);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /storage\.files\.0\.contents\.local: local files are read from a files directory, and none was given.*\(line 7, column 16\)/);
  });
});
