// Shared by the boot tests: builds the artefacts once (bundle from the working
// tree, initramfs with the Flint module, a pristine Flatcar-shaped disk image
// whose /usr partition carries Node and the bundle, all cached under
// .cache/boot/e2e), boots QEMU (TCG) with a hard time limit,
// keeps every console log under test-output/e2e/, and inspects a disk image
// from the host afterwards.

import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export const REPO = join(__dirname, "..", "..");
const CACHE = join(REPO, ".cache", "boot", "e2e");
const OUTPUT = join(REPO, "test-output", "e2e");
const SCRIPTS = join(REPO, "scripts");

/** The placeholder GUID of a pristine Flatcar image. */
export const PLACEHOLDER_GUID = "00000000-0000-0000-0000-000000000001";

export interface Artefacts {
  initramfs: string;
  /** The kernel the initramfs is for: boots use it even if a newer one is installed meanwhile. */
  kver: string;
  pristineDisk: string;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
}

let built: Artefacts | undefined;

/** Builds (or reuses, when their inputs did not change) the initramfs and the pristine disk. */
export function artefacts(): Artefacts {
  if (built) return built;
  mkdirSync(CACHE, { recursive: true });
  const bundle = join(CACHE, "flint.js");
  // The working tree, so that the boots test the code being changed.
  sh(process.execPath, [join(REPO, "build.mjs")]);
  copyFileSync(join(REPO, "dist", "flint.js"), bundle);
  for (const lib of ["flint-core.js", "flint-core.v8cache", "flint-yaml.js", "flint-sysinfo.js"]) copyFileSync(join(REPO, "dist", lib), join(CACHE, lib));
  // Test-only units (inert without their kernel argument) join the image too.
  const fixtures = join(REPO, "test", "e2e", "fixtures", "initramfs");
  const sum = `${sh(join(SCRIPTS, "lib", "inputs-sum.sh"), [bundle]).trim()} ${sh("sh", ["-c", `tar -C "$1" -c --sort=name --mtime=@0 --owner=0 --group=0 . | sha256sum`, "sh", fixtures]).split(" ")[0]}`;
  const kver = sh("bash", ["-c", `source ${JSON.stringify(join(SCRIPTS, "lib", "common.sh"))} && flint_kver`]).trim();
  const initramfs = join(CACHE, "initramfs-flint.img");
  const sumFile = `${initramfs}.sum`;
  if (!existsSync(initramfs) || !existsSync(sumFile) || readFileSync(sumFile, "utf8").trim() !== sum) {
    sh(join(SCRIPTS, "build-initramfs.sh"), ["--kver", kver, initramfs], { FLINT_BUNDLE: bundle, FLINT_INITRAMFS_EXTRA: fixtures });
    writeFileSync(sumFile, sum + "\n");
  }
  // Its /usr holds Node and this bundle, which the initramfs runs (sysusr);
  // build-image.sh returns at once when its inputs are unchanged.
  const pristineDisk = join(CACHE, "disk-pristine.img");
  sh(join(SCRIPTS, "build-image.sh"), ["--kver", kver, pristineDisk], { FLINT_BUNDLE: bundle });
  built = { initramfs, kver, pristineDisk };
  return built;
}

/** A scratch directory for one test's disks and configs. */
export function scratch(name: string): string {
  return mkdtempSync(join(tmpdir(), `flint-e2e-${name}-`));
}

/** A first-boot copy of the pristine image (sparse, so it is quick). */
export function freshDisk(dir: string, name = "disk.img"): string {
  const disk = join(dir, name);
  execFileSync("cp", ["--sparse=always", artefacts().pristineDisk, disk]);
  return disk;
}

export function blankDisk(dir: string, name: string, size: string): string {
  const disk = join(dir, name);
  execFileSync("truncate", ["-s", size, disk]);
  return disk;
}

export function writeConfig(dir: string, name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return file;
}

export interface BootOptions {
  /** Names the console log under test-output/e2e/. */
  name: string;
  disk: string;
  config?: string;
  /** Kernel arguments besides console, root and the test defaults. */
  append: string;
  extraDisks?: string[];
  /** Hard limit for the whole boot; QEMU is killed after it. */
  timeoutSeconds?: number;
  /** QEMU `-smbios` arguments (the cloud's DMI strings). */
  smbios?: string[];
  /** More QEMU arguments as they are (a cloud's media). */
  qemuArgs?: string[];
  /** Boot inside this network namespace, the NIC on its tap `tap` (see test/e2e/lab.ts). */
  network?: { netns: string; tap: string };
  /** Boot this initramfs instead of the built one (the lab's, with its CA appended). */
  initrd?: string;
}

export interface BootResult {
  /** The serial console, without colour codes. */
  console: string;
  /** QEMU's exit status; 124 when it hit the time limit. */
  status: number;
  logFile: string;
  timedOut: boolean;
}

/** Boots once under TCG; the guest powers itself off (or is killed at the limit). */
export function boot(options: BootOptions): Promise<BootResult> {
  const { initramfs, kver } = artefacts();
  mkdirSync(OUTPUT, { recursive: true });
  const logFile = join(OUTPUT, `${options.name}.log`);
  const args = ["--disk", options.disk, "--initrd", options.initrd ?? initramfs, "--kver", kver, "--timeout", String(options.timeoutSeconds ?? 600), "--log", logFile];
  if (options.config) args.push("--config", options.config);
  for (const extra of options.extraDisks ?? []) args.push("--extra-disk", extra);
  for (const smbios of options.smbios ?? []) args.push("--smbios", smbios);
  for (const arg of options.qemuArgs ?? []) args.push("--qemu", arg);
  if (options.network) args.push("--tap", options.network.tap);
  // forward_to_console: the initramfs journal (unit starts and stops, with
  // timestamps) reaches the console log too, for diagnosis and timing.
  args.push("--append", `${options.append} flint.test.poweroff rd.shell=0 rd.emergency=poweroff systemd.journald.forward_to_console=1`);
  return new Promise((resolve, reject) => {
    const script = join(SCRIPTS, "lib", "qemu-boot.sh");
    const [command, argv] = options.network ? ["ip", ["netns", "exec", options.network.netns, script, ...args]] : [script, args];
    const child = spawn(command, argv, {
      env: { ...process.env, FLINT_ACCEL: "tcg" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const raw = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      if (stderr) writeFileSync(`${logFile}.stderr`, stderr);
      const status = code ?? 1;
      resolve({ console: stripColours(raw), status, logFile, timedOut: status === 124 || status === 137 });
    });
  });
}

export function stripColours(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "").replace(/\r/g, "");
}

/** What the host sees on a disk image after a boot. */
export interface DiskView {
  /** The GPT disk GUID, lowercase. */
  diskGuid: string;
  /** Files under the ESP's flatcar/ directory. */
  espFlatcar: string[];
  /** ROOT (partition 9), mounted read-only for the callback (it has no /usr: that is USR-A, partition 3). */
  root: string;
}

/** Attaches the image read-only, mounts ROOT, runs fn, and always detaches. */
export async function inspectDisk<T>(image: string, fn: (view: DiskView) => T | Promise<T>): Promise<T> {
  const guidLine = sh("sgdisk", ["-p", image]).split("\n").find((l) => l.startsWith("Disk identifier (GUID):"));
  const diskGuid = (guidLine ?? "").split(":")[1]?.trim().toLowerCase() ?? "";
  // noload: a read-only look must not replay ROOT's journal.
  return withMountedPartition(image, 9, "ro,noload", (loop, root) => {
    let espFlatcar: string[] = [];
    try {
      espFlatcar = sh("mdir", ["-b", "-i", `${loop}p1`, "::/flatcar/"], { MTOOLS_SKIP_CHECK: "1" })
        .split("\n")
        .map((l) => l.trim().replace(/^::\/flatcar\//, ""))
        .filter((l) => l !== "");
    } catch {
      espFlatcar = []; // no flatcar/ directory at all
    }
    return fn({ diskGuid, espFlatcar, root });
  });
}

/** Mounts one partition (by number) of an image read-only for fn; always detaches. */
export function inspectPartition<T>(image: string, partition: number, fn: (dir: string) => T | Promise<T>): Promise<T> {
  return withMountedPartition(image, partition, "ro", (_loop, dir) => fn(dir));
}

/** Puts a file into one partition (by number) of an image, as an installer writes the OEM partition's config.ign. */
export function writeToPartition(image: string, partition: number, path: string, data: string): Promise<void> {
  return withMountedPartition(image, partition, "rw", (_loop, dir) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), data);
  }, { writable: true });
}

/** Attaches the image (read-only unless `writable`), mounts partition `number` with `options`, runs fn, and always unmounts and detaches. */
async function withMountedPartition<T>(image: string, number: number, options: string, fn: (loop: string, dir: string) => T | Promise<T>, attach: { writable?: boolean } = {}): Promise<T> {
  const loop = sh("losetup", ["-f", "--show", ...(attach.writable ? [] : ["-r"]), image]).trim();
  const mnt = mkdtempSync(join(tmpdir(), "flint-e2e-part-"));
  let mounted = false;
  try {
    try {
      sh("partx", ["-a", loop]);
    } catch {
      // Some of them are there already (udev, or a scan of the device): bring the set up to date.
      sh("partx", ["-u", loop]);
    }
    await waitFor(() => existsSync(`${loop}p${number}`));
    sh("mount", ["-o", options, `${loop}p${number}`, mnt]);
    mounted = true;
    return await fn(loop, mnt);
  } finally {
    if (mounted) sh("umount", [mnt]);
    rmSync(mnt, { recursive: true, force: true });
    try {
      sh("partx", ["-d", loop]);
    } catch {
      // partitions already gone
    }
    sh("losetup", ["-d", loop]);
  }
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
  if (!check()) throw new Error("partition device nodes did not appear");
}

/** Copies a file aside for a later look (e.g. a disk after a failed boot). */
export function keepForLater(file: string, name: string): void {
  mkdirSync(OUTPUT, { recursive: true });
  copyFileSync(file, join(OUTPUT, name));
}
