// The cloud lab: a network namespace of its own (scripts/lib/lab-net.sh:
// bridge, tap, dnsmasq for DHCP and DNS), a fake cloud serving at the real
// metadata addresses and names inside it (test/lab/serve-cloud.ts), or for
// bare metal a config served by host name (test/lab/serve-config.ts), and
// QEMU booting on the tap with the cloud's SMBIOS strings and media. Used by
// test/e2e/lab.test.ts and by scripts/lab.sh. Nothing here touches the
// host's network: every address lives in the namespace, which stop() (or,
// at the latest, the process's exit) deletes with everything running in it.

import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { closeSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CLOUDS, type Cloud } from "../lab/clouds";
import { artefacts, REPO, type BootOptions } from "./harness";

/** The lab's own addresses, names and devices (inside its namespace only). */
export const LAB_ADDRESS = "192.0.2.1";
export const LAB_TAP = "fltap0";
export const LAB_BRIDGE = "flbr0";
export const CONFIG_HOST = "config.example.test";
export const CONFIG_PORT = 8080;
/** Where a bare-metal boot's config is served, by host name. */
export const CONFIG_URL = `http://${CONFIG_HOST}:${CONFIG_PORT}/boot.ign`;

const LAB_NET = join(REPO, "scripts", "lib", "lab-net.sh");
const READY_TIMEOUT_MS = 60_000;

/** Bare metal: QEMU's own DMI, the config by URL on the command line. */
const METAL: Cloud = { smbios: [], hosts: {}, cmdline: `flatcar.oem.id=metal ignition.config.url=${CONFIG_URL}` };

/** How `platform` looks from inside the guest: test/lab/clouds.ts, or bare metal. */
export function cloudFor(platform: string): Cloud {
  if (platform === "metal") return METAL;
  const cloud = CLOUDS[platform];
  if (!cloud) throw new Error(`the lab has no cloud ${JSON.stringify(platform)} (it has metal, ${Object.keys(CLOUDS).join(", ")})`);
  return cloud;
}

export interface LabOptions {
  /** Names the state directory (logs) and, with the pid, the namespace. */
  name: string;
  /** `metal`, or a cloud of test/lab/clouds.ts. */
  platform: string;
  /** The cloud's user data, or for metal the config served at CONFIG_URL. */
  userdata?: string;
  sshKey?: string;
  hostname?: string;
  /** A cloud-specific variation (see test/lab/fakes/). */
  scenario?: string;
  /** false: no DHCP server, the guest has only link-local addresses. */
  dhcp?: boolean;
  /** Files for the cloud's storage service, by URL (`s3://BUCKET/KEY`…; test/lab/fakes/s3.ts). */
  objects?: Record<string, string>;
}

const live = new Set<Lab>();
let exitHookInstalled = false;

export class Lab {
  private readonly children: ChildProcess[] = [];
  private stopped = false;
  /** QEMU `-smbios` arguments, media and kernel arguments for the guest. */
  smbios: string[] = [];
  qemuArgs: string[] = [];
  cmdline = "";
  /** The initramfs with the fake cloud's CA appended, when its services speak HTTPS. */
  initrd?: string;

  private constructor(
    readonly options: LabOptions,
    readonly netns: string,
    /** Logs (dnsmasq, the cloud's requests), leases and media. */
    readonly dir: string,
  ) {}

  static async start(options: LabOptions): Promise<Lab> {
    const dir = mkdtempSync(join(tmpdir(), `flint-lab-${options.name}-`));
    const lab = new Lab(options, `flint-lab-${process.pid}-${live.size}-${Date.now() % 100000}`, dir);
    live.add(lab);
    installExitHook();
    try {
      const cloud = cloudFor(options.platform);
      const hosts = { ...cloud.hosts, [CONFIG_HOST]: LAB_ADDRESS };
      const args = ["up", lab.netns, join(dir, "net"), ...Object.entries(hosts).flatMap(([name, address]) => ["--host", `${name}=${address}`])];
      if (options.dhcp === false) args.push("--no-dhcp");
      execFileSync(LAB_NET, args, { stdio: ["ignore", "pipe", "pipe"] });
      if (options.platform === "metal") {
        if (!options.userdata) throw new Error("a metal lab needs the config to serve (userdata)");
        await lab.serve("serve-config", ["--address", LAB_ADDRESS, "--port", String(CONFIG_PORT), "--file", options.userdata]);
      } else {
        const caFile = join(dir, "cloud-ca.crt");
        const cloudArgs = ["--platform", options.platform, "--dev", LAB_BRIDGE, "--ca-out", caFile];
        if (options.userdata) cloudArgs.push("--userdata", options.userdata);
        if (options.sshKey) cloudArgs.push("--ssh-key", options.sshKey);
        if (options.hostname) cloudArgs.push("--hostname", options.hostname);
        if (options.scenario) cloudArgs.push("--scenario", options.scenario);
        for (const [url, file] of Object.entries(options.objects ?? {})) cloudArgs.push("--object", `${url}=${file}`);
        await lab.serve("serve-cloud", cloudArgs);
        if (existsSync(caFile)) lab.initrd = initrdTrusting(caFile, join(dir, "initrd"));
      }
      lab.smbios = cloud.smbios;
      lab.cmdline = cloud.cmdline ?? "";
      lab.qemuArgs = cloud.media ? await cloud.media(join(dir, "media"), options) : [];
      return lab;
    } catch (e) {
      await lab.stop();
      throw e;
    }
  }

  /** What harness.boot() needs to boot in this lab. */
  bootOptions(): Pick<BootOptions, "smbios" | "qemuArgs" | "network" | "initrd"> {
    return { smbios: this.smbios, qemuArgs: this.qemuArgs, network: { netns: this.netns, tap: LAB_TAP }, initrd: this.initrd };
  }

  /** The requests the fake services saw, one `ADDRESS METHOD URL STATUS` line each. */
  requests(): string[] {
    return readText(join(this.dir, "requests.log")).split("\n").filter((l) => / (GET|PUT|POST|HEAD) /.test(l));
  }

  /** What the fakes heard besides requests: Azure health reports, Equinix Metal events and phone-homes, the config server's clients. */
  events(): string[] {
    return readText(join(this.dir, "requests.log")).split("\n").filter((l) => / (HEALTH|EVENT|PHONE-HOME|CLIENT)\b/.test(l));
  }

  /** dnsmasq's log: DHCP and DNS queries. */
  dnsLog(): string {
    return readText(join(this.dir, "net", "dnsmasq.log"));
  }

  /** Ends everything in the namespace and deletes it; safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      takeDown(this.netns, this.dir);
    } finally {
      // The initramfs copy is no log worth keeping.
      if (this.initrd) rmSync(join(this.dir, "initrd"), { recursive: true, force: true });
      live.delete(this);
      await Promise.all(this.children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("close", r)))));
    }
  }

  /** Removes the state directory (after stop(); keep it to look at the logs). */
  removeFiles(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Starts test/lab/SCRIPT.ts inside the namespace and waits for its `ready` line. */
  private async serve(script: string, args: string[]): Promise<void> {
    const log = createWriteStream(join(this.dir, "requests.log"), { flags: "a" });
    const child = spawn("ip", ["netns", "exec", this.netns, process.execPath, "--import", "tsx", join(REPO, "test", "lab", `${script}.ts`), ...args], {
      cwd: REPO,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.children.push(child);
    child.stderr!.pipe(log);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not say ready within ${READY_TIMEOUT_MS / 1000} s (see ${this.dir}/requests.log)`)), READY_TIMEOUT_MS);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        if (line.trim() === "ready") {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`${script} exited (${code}) before it was ready: ${readText(join(this.dir, "requests.log")).slice(-2000)}`));
      });
    });
  }
}

/** Where the lab guest finds the fake cloud's CA, and the drop-in that makes Flint's Node trust it. */
const LAB_CA_PATH = "etc/ssl/certs/flint-lab-ca.pem";
/** The units whose Flint makes requests: the agent (every stage) and the check-ins. */
const LAB_CA_UNITS = ["flint-agent.service", "flint-checkin.service", "flint-checkin-failed.service"];

/**
 * The built initramfs with one more cpio archive after it (Linux unpacks
 * concatenated archives in turn), carrying the fake cloud's CA and a drop-in
 * per unit that sets NODE_EXTRA_CA_CERTS for `flint agent`, the process that
 * makes every stage's requests, and for the check-ins. Flint's Node trusts its bundled Mozilla roots plus
 * NODE_EXTRA_CA_CERTS, so this is how an image trusts a private CA; the
 * product itself is unchanged and checks certificates as always.
 */
function initrdTrusting(caFile: string, dir: string): string {
  const stage = join(dir, "root");
  rmSync(dir, { recursive: true, force: true });
  const dropIn = `# The cloud lab's CA (test/e2e/lab.ts): its fake metadata services speak HTTPS.\n[Service]\nEnvironment=NODE_EXTRA_CA_CERTS=/${LAB_CA_PATH}\n`;
  for (const [path, contents] of [
    [LAB_CA_PATH, readFileSync(caFile)],
    ...LAB_CA_UNITS.map((unit) => [`etc/systemd/system/${unit}.d/50-flint-lab-ca.conf`, dropIn] as const),
  ] as const) {
    mkdirSync(join(stage, path, ".."), { recursive: true });
    writeFileSync(join(stage, path), contents);
  }
  const archive = join(dir, "lab-ca.cpio");
  execFileSync("sh", ["-c", `cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 >"$2"`, "sh", stage, archive], { stdio: ["ignore", "ignore", "pipe"] });
  const initrd = join(dir, "initramfs-lab.img");
  const base = artefacts().initramfs;
  execFileSync("cp", ["--", base, initrd]);
  // Each archive starts on a 4-byte boundary; zeros between archives are skipped.
  const pad = (4 - (statSync(base).size % 4)) % 4;
  const fd = openSync(initrd, "a");
  try {
    writeSync(fd, Buffer.alloc(pad));
    writeSync(fd, readFileSync(archive));
  } finally {
    closeSync(fd);
  }
  return initrd;
}

function takeDown(netns: string, dir: string): void {
  execFileSync(LAB_NET, ["down", netns, join(dir, "net")], { stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * A lab whose owner never stopped it (a crash, an interrupted run) still goes
 * with the process: on exit, and on SIGINT/SIGTERM/SIGHUP, after which the
 * signal is raised again so that the process ends as it would have.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const takeDownAll = () => {
    for (const lab of live) {
      try {
        takeDown(lab.netns, lab.dir);
      } catch {
        // Nothing more can be done while exiting.
      }
    }
    live.clear();
  };
  process.on("exit", takeDownAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      takeDownAll();
      // Someone else listening decides what the signal does; alone, it ends the process as usual.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
