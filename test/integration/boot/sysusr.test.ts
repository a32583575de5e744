// Flint from /usr (the module's default mode): /usr/bin/flint and the links
// to flint-sysusr-exec run the /usr partition's Node, bundle and tools with
// that partition's own loader. Here the host's /usr plays the partition
// (FLINT_SYSUSR), which has the same shape as the demo image's.

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const MODULE = join(__dirname, "..", "..", "..", "dracut-module");

describe("Flint from the /usr partition (dracut-module/flint-sysusr*.sh)", () => {
  let work: string;
  let links: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "flint-sysusr-"));
    // As module-setup.sh lays them out: /usr/lib/flint/sysusr/NAME -> ../flint-sysusr-exec.
    links = join(work, "sysusr");
    mkdirSync(links);
    for (const name of ["node", "sgdisk", "mdir", "flint-no-such-tool", "cat"]) symlinkSync(join(MODULE, "flint-sysusr-exec.sh"), join(links, name));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const run = (name: string, args: string[], usr = "/usr") =>
    spawnSync(join(links, name), args, { encoding: "utf8", env: { ...process.env, FLINT_SYSUSR: usr, PATH: `${links}:/usr/sbin:/usr/bin:/sbin:/bin` } });

  it("runs the partition's program through the partition's own dynamic loader, under its own name", () => {
    const node = run("node", ["-e", "console.log(process.argv0, require('fs').readlinkSync('/proc/self/exe'))"]);
    assert.equal(node.status, 0, node.stderr);
    const [argv0, exe] = node.stdout.trim().split(" ");
    assert.equal(argv0, "node");
    assert.match(exe!, /^\/usr\/lib\/[^/]*linux-gnu[^/]*\/ld-linux[^/]*\.so\.\d$/);
    const sgdisk = run("sgdisk", ["--version"]);
    assert.equal(sgdisk.status, 0, sgdisk.stderr);
    assert.match(sgdisk.stdout, /GPT fdisk \(sgdisk\)/);
    // mtools picks its command from argv[0].
    assert.match(run("mdir", ["-V"]).stdout, /^mdir \(GNU mtools\)/);
  });

  it("falls back to the initramfs's own program when the partition has none, and names a program found nowhere", () => {
    const empty = join(work, "empty-usr");
    mkdirSync(empty, { recursive: true });
    const cat = spawnSync(join(links, "cat"), [], { input: "from the initramfs\n", encoding: "utf8", env: { ...process.env, FLINT_SYSUSR: empty, PATH: `${links}:/usr/bin:/bin` } });
    assert.equal(cat.status, 0, cat.stderr);
    assert.equal(cat.stdout, "from the initramfs\n");
    const missing = run("flint-no-such-tool", []);
    assert.equal(missing.status, 127);
    assert.match(missing.stderr, /flint-no-such-tool: not found in \/usr \(the \/usr partition\) nor in the initramfs/);
  });

  it("/usr/bin/flint refuses to start without Flint in the partition, naming what the command line needs", () => {
    const flint = spawnSync(join(MODULE, "flint-sysusr.sh"), ["--version"], { encoding: "utf8", env: { ...process.env, FLINT_SYSUSR: join(work, "empty-usr") } });
    assert.equal(flint.status, 1);
    assert.match(flint.stderr, /no .*\/lib\/flint\/flint\.js: the kernel command line needs mount\.usr=/);
  });
});

describe("the dracut module with Node inside (FLINT_MODE=initramfs)", function () {
  this.timeout(180_000);
  let base: string;
  before(function () {
    if (!existsSync("/usr/lib/dracut/dracut-functions.sh") || process.getuid?.() !== 0) this.skip();
    base = mkdtempSync(join(tmpdir(), "flint-dracut-"));
    mkdirSync(join(base, "usr", "lib"), { recursive: true });
    execFileSync("cp", ["-a", "/usr/lib/dracut", join(base, "usr", "lib", "dracut")]);
    execFileSync(join(MODULE, "install.sh"), ["--no-build", base], { stdio: ["ignore", "ignore", "pipe"] });
  });
  after(() => {
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it("stops the build, naming it, when a required tool is not installed (dracut alone would only warn)", () => {
    const setup = join(base, "usr", "lib", "dracut", "modules.d", "30flint", "module-setup.sh");
    // One more required tool, which no machine has.
    writeFileSync(setup, readFileSync(setup, "utf8").replace('FLINT_REQUIRED_TOOLS="mount ', 'FLINT_REQUIRED_TOOLS="flint-no-such-tool mount '));
    const out = join(base, "initramfs.img");
    const dracut = spawnSync("dracut", ["--force", "--no-hostonly", "--quiet", "--no-kernel", "--no-compress", "-m", "systemd base", "--add", "flint", out], {
      encoding: "utf8",
      env: { ...process.env, FLINT_MODE: "initramfs", dracutbasedir: join(base, "usr", "lib", "dracut") },
    });
    assert.notEqual(dracut.status, 0, "dracut succeeded without the tool");
    assert.match(dracut.stderr, /flint: flint-no-such-tool is required but not installed on this machine/);
    assert.equal(existsSync(out), false);
  });
});
