// The mount and umount stages on real ext4 filesystems on loop devices.

import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inScope } from "../../../agent/scope";
import { runStages } from "../../../agent/stages/run";
import { makeTempRoot, mountsUnder, snapshotTree, type TempRoot } from "../../helpers/root";
import { buildBundle, FLINT } from "../../helpers/bundle";


function flint(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [FLINT, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}


describe("mount and umount stages", function () {
  this.timeout(180_000);
  let t: TempRoot;
  const loops: string[] = [];

  before(buildBundle);

  beforeEach(() => {
    t = makeTempRoot();
    for (const name of ["var", "data"]) {
      const image = join(t.dir, `${name}.img`);
      execFileSync("truncate", ["-s", "48M", image]);
      execFileSync("mkfs.ext4", ["-q", "-F", "-L", name, image]);
      loops.push(execFileSync("losetup", ["-f", "--show", image], { encoding: "utf8" }).trim());
    }
  });

  afterEach(() => {
    // Unmount anything a failed test left under this root (deepest first), then detach our loops.
    for (const point of mountsUnder(t.dir).sort((a, b) => b.length - a.length)) spawnSync("umount", [point]);
    while (loops.length) spawnSync("losetup", ["-d", loops.pop()!]);
    assert.deepEqual(snapshotTree(t.canary), t.canaryBefore, "something was written outside the root");
    t.cleanup();
  });

  function config(): object {
    return {
      ignition: { version: "3.4.0" },
      storage: {
        // Listed child first: the stage must still mount the parent first.
        filesystems: [
          { device: loops[1], format: "ext4", path: "/var/lib/data", mountOptions: ["noatime"] },
          { device: loops[0], format: "ext4", path: "/var" },
        ],
        files: [
          { path: "/var/on-var", contents: { source: "data:,var%0A" } },
          { path: "/var/lib/data/on-data", contents: { source: "data:,data%0A" } },
        ],
      },
    };
  }

  /** Mounts a loop device read-only in a scratch dir while `look` runs. */
  function onDevice<T>(device: string, look: (dir: string) => T): T {
    const scratch = join(t.dir, "scratch");
    mkdirSync(scratch, { recursive: true });
    execFileSync("mount", ["-o", "ro", device, scratch]);
    try {
      return look(scratch);
    } finally {
      execFileSync("umount", [scratch]);
    }
  }
  const readFromDevice = (device: string, file: string): string => onDevice(device, (dir) => readFileSync(join(dir, file), "utf8"));

  it("apply mounts parents before children with mountOptions, writes onto them, and unmounts everything", () => {
    const path = join(t.dir, "config.ign");
    writeFileSync(path, JSON.stringify(config()));
    const r = flint(["apply", "--config", path, "--root", t.root]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(mountsUnder(t.root), [], "something is still mounted under the root");
    assert.equal(readFromDevice(loops[0]!, "on-var"), "var\n");
    assert.equal(readFromDevice(loops[1]!, "on-data"), "data\n");
    // The data filesystem's mount point was made on the var filesystem, not in the bare root.
    assert.ok(onDevice(loops[0]!, (dir) => statSync(join(dir, "lib/data")).isDirectory()));
    const report = JSON.parse(readFileSync(join(t.root, "etc/.flint-result.json"), "utf8"));
    const mounts = report.stages[0].actions.filter((a: { kind: string }) => a.kind === "mount");
    assert.deepEqual(mounts.map((a: { target: string }) => a.target), ["/var", "/var/lib/data"]);
    assert.match(mounts[1].detail, /options=noatime/);
    const umounts = report.stages[2].actions.map((a: { target: string }) => a.target);
    assert.deepEqual(umounts, ["/var/lib/data", "/var"]);
  });

  it("mounts two filesystems with one path one over the other, as Ignition does, and unmounts both", () => {
    const path = join(t.dir, "config.ign");
    writeFileSync(path, JSON.stringify({
      ignition: { version: "3.4.0" },
      storage: {
        filesystems: [
          { device: loops[0], format: "ext4", path: "/var" },
          { device: loops[1], format: "ext4", path: "/var" },
        ],
        files: [{ path: "/var/top", contents: { source: "data:,top%0A" } }],
      },
    }));
    const r = flint(["apply", "--config", path, "--root", t.root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /mounting .* over it, as Ignition does/);
    assert.deepEqual(mountsUnder(t.root), [], "something is still mounted under the root");
    assert.equal(readFromDevice(loops[1]!, "top"), "top\n");
    assert.equal(onDevice(loops[0]!, (dir) => existsSync(join(dir, "top"))), false, "written under the upper filesystem");
  });

  it("runs as separate per-stage commands on the cached config, and the report gathers every stage", () => {
    const cacheDir = join(t.dir, "run");
    mkdirSync(cacheDir);
    const cache = join(cacheDir, "config.json");
    writeFileSync(cache, JSON.stringify(config()), { mode: 0o600 });
    const mount = flint(["mount", "--root", t.root, "--cache", cache]);
    assert.equal(mount.code, 0, mount.stderr);
    assert.equal(mountsUnder(t.root).length, 2);
    assert.equal(flint(["files", "--root", t.root, "--cache", cache]).code, 0);
    const umount = flint(["umount", "--root", t.root, "--cache", cache]);
    assert.equal(umount.code, 0, umount.stderr);
    assert.deepEqual(mountsUnder(t.root), []);
    const shown = flint(["report", "--root", t.root]);
    assert.match(shown.stdout, /stage mount: ok[\s\S]*stage files: ok[\s\S]*stage umount: ok/);
    assert.equal(readFromDevice(loops[1]!, "on-data"), "data\n");
  });

  it("a 2.x config's named filesystem without a path is mounted where Flatcar mounts it, and its files land on it", () => {
    onDevice(loops[0]!, () => undefined);
    execFileSync("sh", ["-c", `mkdir -p ${t.dir}/oem && mount ${loops[0]} ${t.dir}/oem && printf 'set linux_console="console=ttyS0"\n' > ${t.dir}/oem/grub.cfg && umount ${t.dir}/oem`]);
    const path = join(t.dir, "config.ign");
    const line = 'set linux_append="$linux_append flatcar.autologin"\n';
    writeFileSync(
      path,
      JSON.stringify({
        ignition: { version: "2.2.0" },
        storage: {
          filesystems: [{ name: "OEM", mount: { device: loops[0], format: "ext4" } }],
          files: [{ filesystem: "OEM", path: "/grub.cfg", mode: 420, append: true, contents: { source: `data:,${encodeURIComponent(line)}` } }],
        },
      }),
    );
    const r = flint(["apply", "--config", path, "--root", t.root]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(mountsUnder(t.root), []);
    assert.equal(readFromDevice(loops[0]!, "grub.cfg"), `set linux_console="console=ttyS0"\n${line}`);
    assert.ok(statSync(join(t.root, "tmp/OEM-ign1")).isDirectory());
  });

  it("fails clearly on a device that does not exist and leaves nothing mounted", () => {
    const path = join(t.dir, "config.ign");
    writeFileSync(path, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { filesystems: [{ device: loops[0], format: "ext4", path: "/var" }, { device: "/dev/flint-no-such-device", format: "ext4", path: "/srv" }] } }));
    const r = flint(["apply", "--config", path, "--root", t.root]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /config\.ign: storage\.filesystems\.1\.path \(line 1, column \d+\), filesystem \/dev\/flint-no-such-device: cannot mount \/dev\/flint-no-such-device at \/srv/);
    assert.deepEqual(mountsUnder(t.root), [], "the mount that worked was not undone");
  });

  // A boot's mount stage that fails or is cancelled half-way (its unit stopped:
  // the agent aborts the request's signal) still unmounts what it mounted,
  // though the run was not asked for umount.
  it("flint mount at boot (no umount asked for) that fails on its second filesystem leaves nothing mounted", () => {
    mkdirSync(join(t.dir, "run"));
    const cache = join(t.dir, "run/config.json");
    writeFileSync(cache, JSON.stringify({ ignition: { version: "3.4.0" }, storage: { filesystems: [{ device: loops[0], format: "ext4", path: "/var" }, { device: "/dev/flint-no-such-device", format: "ext4", path: "/srv" }] } }), { mode: 0o600 });
    const r = spawnSync(process.execPath, [FLINT, "mount", "--root", t.root, "--cache", cache], { encoding: "utf8" });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /unmounting after the failure/);
    assert.deepEqual(mountsUnder(t.root), [], "the mount that worked was not undone");
  });

  it("cancelled after its first mount: the stage stops, and the unmount runs though the request's signal is aborted", async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const config = { ignition: { version: "3.4.0" }, storage: { filesystems: [{ device: loops[0], format: "ext4", path: "/var" }, { device: loops[1], format: "ext4", path: "/srv" }] } };
    const scope = {
      log: {
        level: "debug" as const,
        format: "text" as const,
        write: (line: string) => {
          lines.push(line);
          // The client goes away once the first filesystem is mounted.
          if (/\bmount ended \(0\)/.test(line)) controller.abort(new Error("cancelled: its client went away"));
        },
      },
      signal: controller.signal,
    };
    const { error, report } = await inScope(scope, () => runStages(config as never, ["mount"], { root: t.root, dryRun: false, runDir: join(t.dir, "run"), signal: controller.signal }));
    assert.match(String((error as Error)?.message), /cancelled/);
    assert.ok(lines.some((l) => l.includes("mounting") && l.includes(" at /var")), lines.join("\n"));
    assert.equal(lines.some((l) => l.includes(" at /srv")), false, "the stage went on after it was cancelled");
    assert.deepEqual(report.stages.map((s) => s.name), ["mount", "umount"]);
    assert.deepEqual(mountsUnder(t.root), [], "what the cancelled stage mounted is still mounted");
  });
});
